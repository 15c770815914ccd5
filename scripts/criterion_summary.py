#!/usr/bin/env python3
"""Adds up the Criterion "Synthesis:" lines of meson test logs, and the
"N passed, N failed, N skipped" lines of tests/mini_criterion.h (the
ThreadSanitizer build, where Criterion cannot run).

Prints one line per log and a closing "tests: N passed, N failed" line; exits
non-zero when any case failed or crashed, or when a log holds no Criterion
summary at all (a suite that ran nothing is a failure, not a pass).
"""
import re
import sys

SYNTHESIS = re.compile(
    r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")
MINI = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", re.MULTILINE)


def main(paths):
    passed = failed = 0
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        found = [tuple(map(int, m.groups())) for m in SYNTHESIS.finditer(text)]
        # as (tested, passing, failing, crashing)
        found += [(int(p) + int(fl), int(p), int(fl), 0)
                  for p, fl, _ in MINI.findall(text)]
        if not found:
            print(f"{path}: no Criterion summary found")
            failed += 1
            continue
        p = sum(t[1] for t in found)
        fl = sum(t[2] + t[3] for t in found)
        print(f"{path}: {len(found)} programs, {p} cases passed, {fl} failed or crashed")
        passed += p
        failed += fl
    print(f"tests: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
