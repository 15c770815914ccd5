#!/usr/bin/env bash
# Installs what is missing, builds tconv and runs one real layer (the DCGAN
# generator's 512 -> 256, 4x4, stride-2 transposed convolution).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build -Dtests=false >/dev/null
meson compile -C build >/dev/null
build/examples/dcgan_layer "$@"
