#!/usr/bin/env bash
# Installs what is missing, builds tconv and runs one real layer (the DCGAN
# generator's 512 -> 256, 4x4, stride-2 transposed convolution): the plan, a
# checksum, the cold first call, the warm median with its GFLOP/s and share
# of this machine's FMA peak, and oneDNN's time for the same layer when
# Debian's libdnnl-dev is installed. Arguments go to dcgan_layer (--help).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# Only the library and the examples: the demo needs neither the tests nor
# the benchmark. A build/ configured before libdnnl-dev was installed gets
# the oneDNN comparison after `meson setup --reconfigure build`.
[ -f build/build.ninja ] || meson setup build -Dtests=disabled -Dbench=disabled -Dexamples=enabled >/dev/null
meson compile -C build >/dev/null
build/examples/dcgan_layer "$@"
