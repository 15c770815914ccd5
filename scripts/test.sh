#!/usr/bin/env bash
# The full test suite, as CI runs it:
#   0. no include points up the library's layers (scripts/check-includes.sh);
#   1. a release build with warnings as errors, its Criterion tests;
#   2. install into a staging prefix and build programs against it with
#      `pkg-config --cflags --libs tconv` and with CMake's find_package(tconv); the MATLAB/Octave
#      front end's tests in Octave (scripts/test-octave.sh);
#      the Python package's tests, once per instruction set, its PyTorch
#      example and benchmark (scripts/test-python.sh);
#   3. the same tests built with AddressSanitizer and UndefinedBehaviorSanitizer
#      (any report fails the run);
#   4. the threads and concurrent-tuning tests built with ThreadSanitizer;
#   5. an aarch64 cross build, the whole suite (scalar and NEON) under
#      qemu-aarch64 (scripts/test-aarch64.sh);
#   6. 30 s of libFuzzer on the tuning cache's parser (scripts/fuzz-cache.sh)
#      and 60 s on the public API (scripts/fuzz-api.sh);
#   7. the benchmark's one command in quick mode, its JSON merged with the
#      committed results (scripts/test-bench.sh).
# Steps 1 and 3 run each test program once per instruction set the CPU has
# (the kernel checker and the tuning-cache test once: suites kernels, cache).
# Ends with one line counting every test case of all the builds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh

step() { printf '\n== %s\n' "$*"; }

# The instruction-set suites (tests/meson.build) this CPU can run. A suite
# left out is said so here, never skipped silently.
suites=(--suite kernels --suite cache --suite scalar)
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
case "$(uname -m)" in
x86_64)
    if grep -qw avx2 <<<"$flags" && grep -qw fma <<<"$flags"; then suites+=(--suite avx2)
    else echo "test.sh: this CPU lacks AVX2+FMA: the avx2 and avx512 suites are not run"; fi
    if grep -qw avx512f <<<"$flags"; then suites+=(--suite avx512)
    else echo "test.sh: this CPU lacks AVX-512F: the avx512 suite is not run"; fi
    ;;
aarch64) suites+=(--suite neon) ;;
esac
echo "test.sh: instruction-set suites: ${suites[*]}"

step "include layers (ARCHITECTURE.md)"
bash scripts/check-includes.sh

step "release build (-Werror)"
rm -rf build-ci
# The optional parts are named: a missing test dependency is an error here,
# never a silently smaller run. bench/ is built by the benchmark step.
meson setup build-ci --buildtype=release -Dwerror=true --prefix="$root/build-ci/stage" \
    -Dtests=enabled -Dexamples=enabled -Dbench=disabled >/dev/null
meson compile -C build-ci
# The examples' command lines (suite examples) once, in this build only: the
# demo links oneDNN, whose OpenMP runtime is not for the sanitizer builds.
meson test -C build-ci --print-errorlogs "${suites[@]}" --suite examples

step "install; link through pkg-config and through CMake"
meson install -C build-ci --quiet
export PKG_CONFIG_PATH="$root/build-ci/stage/lib/pkgconfig:$root/build-ci/stage/lib/$(gcc -dumpmachine)/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror examples/dcgan_layer.c examples/fma_peak.c -o build-ci/dcgan_layer_installed \
    $(pkg-config --cflags --libs tconv) -lm
LD_LIBRARY_PATH="$(pkg-config --variable=libdir tconv)" build-ci/dcgan_layer_installed --runs 3 1
# The README's C programs (each ```c block is one) must compile and print
# what the README says: the first example its y line, the training step
# "learned".
awk '/^```c$/ {on = 1; n++; next} /^```$/ {on = 0} on {print > ("build-ci/readme_example_" n ".c")}' README.md
expected=('success: y is 2x8x20x24, y\[0\] = 2.5' 'loss .* after 100 steps: learned')
[ -f build-ci/readme_example_2.c ] && [ ! -f build-ci/readme_example_3.c ] || {
    echo "test.sh: README.md should hold exactly two C programs" >&2; exit 1; }
for i in 1 2; do
    # shellcheck disable=SC2046
    cc -std=c11 -Wall -Wextra -Werror "build-ci/readme_example_$i.c" -o "build-ci/readme_example_$i" \
        $(pkg-config --cflags --libs tconv)
    LD_LIBRARY_PATH="$(pkg-config --variable=libdir tconv)" "build-ci/readme_example_$i" |
        tee "build-ci/readme_example_$i.out"
    grep -qx "${expected[$((i - 1))]}" "build-ci/readme_example_$i.out"
done
# CMake users: find_package(tconv) against the staged install builds the
# README's first example and a version check on the imported target
# tconv::tconv (CMake's build rpath: no LD_LIBRARY_PATH needed).
rm -rf build-ci/cmake-consumer
cmake -S tests/cmake-consumer -B build-ci/cmake-consumer -DCMAKE_PREFIX_PATH="$root/build-ci/stage" \
    -DTCONV_EXAMPLE="$root/build-ci/readme_example_1.c" -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >/dev/null
cmake --build build-ci/cmake-consumer
build-ci/cmake-consumer/version_check
build-ci/cmake-consumer/example | grep -x "${expected[0]}"
# The manual pages are installed and render without warnings.
for page in man1/tconv-tune.1 man3/tconv.3; do
    [ -f "build-ci/stage/share/man/$page" ] || { echo "test.sh: $page not installed" >&2; exit 1; }
    warnings=$(groff -man -ww -z "build-ci/stage/share/man/$page" 2>&1)
    [ -z "$warnings" ] || { echo "test.sh: $page: $warnings" >&2; exit 1; }
done
# The DCGAN generator example runs and writes a valid 64x64 RGB PNG (checked
# with Python's zlib, independently of examples/png.c).
build-ci/examples/dcgan_generator 1 build-ci/dcgan.png
python3 - build-ci/dcgan.png <<'PYEOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
pos, idat, chunks = 8, b"", []
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
    assert zlib.crc32(kind + body) == crc, "CRC of " + kind.decode()
    chunks.append(kind)
    if kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, color = struct.unpack(">IIBB", data[16:26])
assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and (w, h, depth, color) == (64, 64, 8, 2)
assert len(zlib.decompress(idat)) == 64 * (1 + 64 * 3), "image data size"
print("dcgan.png: valid 64x64 RGB PNG")
PYEOF

step "MATLAB/Octave front end (Octave)"
bash scripts/test-octave.sh build-ci/octave-tests.log

step "Python and PyTorch package (python/)"
# pytest once per instruction set of the suites above (TCONV_ISA), as the C
# tests run; then the PyTorch example and torch_bench.py's quick mode.
python_isas=()
for s in "${suites[@]}"; do case $s in scalar | avx2 | avx512 | neon) python_isas+=("$s") ;; esac; done
bash scripts/test-python.sh build-ci/python-tests.log "${python_isas[@]}"

step "AddressSanitizer + UndefinedBehaviorSanitizer build"
rm -rf build-asan
meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize-recover=all -Dtests=enabled -Dexamples=enabled -Dbench=disabled >/dev/null
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --print-errorlogs "${suites[@]}"

step "ThreadSanitizer build: the threads and concurrent-tuning tests"
rm -rf build-tsan
meson setup build-tsan --buildtype=debug -Db_sanitize=thread -Db_lundef=false \
    -Dtests=enabled -Dexamples=disabled -Dbench=disabled >/dev/null
meson compile -C build-tsan tests/test_threads_tsan tests/test_tune_concurrent_tsan
meson test -C build-tsan --print-errorlogs --suite tsan

step "aarch64 cross build (NEON), whole suite under qemu-aarch64"
bash scripts/test-aarch64.sh

step "fuzz the tuning cache's parser (libFuzzer, ASan+UBSan, 30 s)"
bash scripts/fuzz-cache.sh 30

step "fuzz the public API (libFuzzer, ASan+UBSan, 60 s)"
bash scripts/fuzz-api.sh 60

step "benchmark: bench/run.sh --quick end to end, merged with the committed results"
bash scripts/test-bench.sh

step "summary"
# Criterion prints "Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N"
# per program; meson keeps each program's output in its testlog.
python3 scripts/criterion_summary.py build-ci/meson-logs/testlog.txt build-asan/meson-logs/testlog.txt \
    build-tsan/meson-logs/testlog.txt build-aarch64/meson-logs/testlog.txt build-ci/octave-tests.log \
    build-ci/python-tests.log
