#!/usr/bin/env bash
# The MATLAB/Octave front end's tests (tests/octave/test_*.m), as CI runs
# them:
#
#   bash scripts/test-octave.sh LOGFILE
#
# Builds what is missing through scripts/octave.sh (which installs Octave
# and liboctave-dev when absent), then runs each test file in its own
# Octave process, so that a crash of one (the MEX gateway's bad-input test,
# say) fails that file instead of ending the run. Prints one line per case
# and ends with "N passed, M failed, 0 skipped" (scripts/criterion_summary.py
# reads that line from LOGFILE); everything is also written to LOGFILE.
# Exits non-zero when any case fails. Octave's exit status decides, not its
# output: Octave 7.3 prints "error: ignoring const execution_exception&
# while preparing to exit" at exit even after a clean run.
set -uo pipefail
log=${1:?usage: scripts/test-octave.sh LOGFILE}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$(dirname "$log")"

run() {
    if ! TCONV_OCTAVE_BUILD_ONLY=1 bash "$root/scripts/octave.sh"; then
        echo "test-octave.sh: building the MEX gateway failed"
        echo "0 passed, 1 failed, 0 skipped"
        return 1
    fi
    local passed=0 failed=0 out status file name p f
    for file in "$root"/tests/octave/test_*.m; do
        name=$(basename "$file" .m)
        out=$(cd "$root" && bash scripts/octave.sh --path "$root/tests/octave" \
            --eval "tconv_run_cases('$name')" 2>&1)
        status=$?
        grep -v '^error: ignoring const execution_exception& while preparing to exit$' <<<"$out"
        p=$(grep -c '^PASS ' <<<"$out")
        f=$(grep -c '^FAIL ' <<<"$out")
        # A process that died, or exited non-zero with no failing case, or
        # never printed its closing line, counts as one more failure.
        if ! grep -q "^$name: [0-9]* cases passed, [0-9]* failed\$" <<<"$out" ||
            { [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; }; then
            echo "FAIL $name: Octave exited with status $status before finishing the file"
            f=$((f + 1))
        fi
        passed=$((passed + p))
        failed=$((failed + f))
    done
    echo "$passed passed, $failed failed, 0 skipped"
    [ "$failed" -eq 0 ]
}

run 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
