#!/usr/bin/env bash
# Starts Octave with tconv's MATLAB front end (matlab/) on the path:
#
#   bash scripts/octave.sh [octave arguments]
#   bash scripts/octave.sh --eval "disp(transposedConv2dLayer(11,96,'Stride',4))"
#
# First installs what is missing (Debian packages, through
# scripts/install-deps.sh), builds libtconv (meson, in build-octave/) and
# the MEX gateway matlab/tconv_mex.c with `mkoctfile --mex`, linked against
# the static libtconv.a so that no LD_LIBRARY_PATH is needed; each is
# rebuilt only when out of date. The build's messages go to stderr.
# Set TCONV_OCTAVE_BUILD_ONLY=1 to build without starting Octave.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-octave
mexdir=$build/matlab

# liboctave-dev brings mkoctfile and mex.h; the others build libtconv.
bash "$root/scripts/install-deps.sh" gcc libc6-dev pkg-config meson ninja-build \
    libsleef-dev libhwloc-dev octave liboctave-dev >&2

# Only the library: no tests, benchmarks or examples (and none of their
# dependencies). Each of those options is turned off in its own type
# (a feature or a boolean), if meson_options.txt has it.
setup_options=(--buildtype=release)
for opt in tests bench examples; do
    line=$(grep "^option('$opt'" "$root/meson_options.txt" || true)
    case "$line" in
    *"'feature'"*) setup_options+=("-D$opt=disabled") ;;
    *"'boolean'"*) setup_options+=("-D$opt=false") ;;
    esac
done

setup() {
    rm -rf "$build"
    meson setup "$build" "$root" "${setup_options[@]}" >/dev/null
}

{
    [ -f "$build/build.ninja" ] || setup
    # ninja decides what is out of date (a no-op when nothing is). If the
    # build directory no longer fits the project's options, set it up anew.
    ninja -C "$build" libtconv.a >/dev/null || { setup && ninja -C "$build" libtconv.a >/dev/null; }
    mex=$mexdir/tconv_mex.mex
    if [ ! -f "$mex" ] || [ "$root/matlab/tconv_mex.c" -nt "$mex" ] ||
        [ "$build/libtconv.a" -nt "$mex" ] || [ "$root/include/tconv.h" -nt "$mex" ]; then
        mkdir -p "$mexdir"
        # libtconv links SLEEF and hwloc (and libm, pthreads) privately:
        # a static libtconv.a needs them named here.
        mkoctfile --mex -Wall -Wextra -I"$root/include" "$root/matlab/tconv_mex.c" \
            "$build/libtconv.a" -lsleef -lhwloc -lm -lpthread -o "$mex"
        echo "octave.sh: built $mex" >&2
    fi
} >&2

[ "${TCONV_OCTAVE_BUILD_ONLY:-0}" = 1 ] && exit 0
exec octave --no-gui --quiet --path "$root/matlab" --path "$mexdir" "$@"
