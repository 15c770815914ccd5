#!/usr/bin/env bash
# Installs Debian packages if any is missing: those given as arguments, or by
# default those tconv needs to build and test. Runs apt-get as root (directly,
# or through sudo when not root). Quiet when everything is there.
#
#   bash scripts/install-deps.sh              # tconv's build and test packages
#   bash scripts/install-deps.sh PKG...        # these packages
set -euo pipefail

# cmake and groff-base: CI builds a CMake project against the installed package
# and checks the manual pages (scripts/test.sh); python3-onnx: the test of
# scripts/onnx-to-spec.py on a real model (tests/meson.build); libdnnl-dev:
# the demo's oneDNN comparison, which the examples' test expects (a machine
# without it failed examples_cli: "oneDNN: not in this build").
packages=(gcc libc6-dev pkg-config meson ninja-build libcriterion-dev libsleef-dev
    libhwloc-dev cmake groff-base python3-onnx libdnnl-dev)
[ $# -gt 0 ] && packages=("$@")

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
