#!/usr/bin/env bash
# The Criterion test suite cross-built for AArch64 (Debian's
# gcc-aarch64-linux-gnu, cross/aarch64-linux-gnu.ini) and run under
# qemu-aarch64 user-mode emulation: a release build with warnings as errors.
# Criterion's "Synthesis:" lines land in build-aarch64/meson-logs/testlog.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps-aarch64.sh

step() { printf '\n== %s\n' "$*"; }
triplet=aarch64-linux-gnu
qemu=(qemu-aarch64 -L "/usr/$triplet")

step "aarch64 cross build (-Werror), tests under qemu-aarch64"
rm -rf build-aarch64
meson setup build-aarch64 --cross-file cross/aarch64-linux-gnu.ini \
    --buildtype=release -Dwerror=true -Dtests=enabled -Dexamples=enabled -Dbench=disabled >/dev/null
meson compile -C build-aarch64

# The test programs must really be AArch64 code (run through qemu, not natively).
n=0
for exe in build-aarch64/tests/test_*; do
    if [ ! -f "$exe" ] || [ ! -x "$exe" ]; then continue; fi
    if ! "$triplet-readelf" -h "$exe" | grep -q 'Machine: *AArch64'; then
        echo "test-aarch64: $exe is not an AArch64 executable" >&2
        exit 1
    fi
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "test-aarch64: no test programs in build-aarch64/tests" >&2; exit 1; }

# The dispatcher must find NEON (qemu's default CPU, "max", has it).
cat > build-aarch64/isa_probe.c <<'EOF'
#include <stdio.h>
#include <tconv.h>
int main(void)
{
    puts(tconv_isa_name(tconv_cpu_isa()));
    return 0;
}
EOF
"$triplet-gcc" -std=c11 -Wall -Werror -Iinclude build-aarch64/isa_probe.c \
    build-aarch64/libtconv.a -lm -pthread -o build-aarch64/isa_probe
isa=$(env -u TCONV_ISA "${qemu[@]}" build-aarch64/isa_probe)
echo "aarch64: $n test programs are AArch64 executables; tconv_cpu_isa() = $isa"
if [ "$isa" != neon ]; then
    echo "test-aarch64: tconv_cpu_isa() is '$isa' under qemu-aarch64, expected 'neon'" >&2
    exit 1
fi

# qemu-user writes a qemu_*.core file for every guest crash when core dumps
# are allowed; a crash is already reported by Criterion.
ulimit -c 0
meson test -C build-aarch64 --print-errorlogs
