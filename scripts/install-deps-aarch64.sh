#!/usr/bin/env bash
# Installs what the aarch64 cross build and its qemu test run need
# (scripts/test-aarch64.sh, cross/aarch64-linux-gnu.ini), if any is missing:
# Debian's cross gcc and arm64 libc, qemu user-mode emulation, and Criterion
# and SLEEF for arm64. Runs as root (directly, or through sudo when not
# root). Quiet when everything is there.
#
# Criterion for arm64: libcriterion-dev:arm64 (and even libcriterion3:arm64)
# cannot be installed through dpkg multiarch next to the amd64 Criterion that
# the native tests use: libnanomsg5 and libnanomsg-dev are not "Multi-Arch:
# same", so apt would remove the amd64 libcriterion-dev. So this downloads
# libcriterion-dev:arm64 and the arm64 runtime closure of libcriterion3 (less
# libc6 and libgcc-s1, which the cross toolchain has) with `apt-get download`,
# unpacks them with dpkg-deb into a private sysroot that dpkg does not track,
# and writes a criterion.pc there for the cross file's pkg-config.
#
# Criterion under qemu-aarch64: each test runs in a worker process that
# BoxFort starts by fork + execve of the test program itself. Without a
# binfmt_misc entry for AArch64 (containers usually have none, and
# registering one changes the host kernel) the host kernel refuses that
# execve (ENOEXEC: "Could not spawn test instance: Protocol error"). So the
# sysroot also gets qemu-execve.so, a tiny arm64 library that the cross file's
# qemu preloads into the guest: its execve() runs an AArch64 ELF program
# through qemu-aarch64 again and passes anything else to the real execve.
set -euo pipefail

# The version is in the directory's name (bump it, here and in the cross
# file, when what goes into the sysroot changes), so that checkouts of
# different versions on one machine never rebuild each other's sysroot.
stamp_version=5
sysroot=/opt/tconv-aarch64-sysroot-v$stamp_version   # also named in cross/aarch64-linux-gnu.ini
triplet=aarch64-linux-gnu
stamp="$sysroot/.complete"

sysroot_ok() { [ "$(cat "$stamp" 2>/dev/null)" = "$stamp_version" ]; }

bash "$(dirname "$0")/install-deps.sh" gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user \
    meson ninja-build pkg-config
sysroot_ok && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "install-deps-aarch64: need root (or sudo) to unpack arm64 Criterion into $sysroot" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# apt-get download of arm64 packages needs the architecture and its lists.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo[@]}" dpkg --add-architecture arm64
fi
"${sudo[@]}" apt-get update -qq

echo "install-deps-aarch64: unpacking arm64 Criterion into $sysroot"
# Every arm64 package libcriterion3 needs, recursively (the list is the
# same whatever is installed); lines in <> are virtual packages.
mapfile -t debs < <(apt-cache depends --recurse --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances libcriterion3:arm64 |
    grep -E '^[a-z0-9][^ ]*:arm64$' |
    grep -vE '^(libc6|libgcc-s1|gcc-[0-9]+-base):arm64$')
tmp=$(mktemp -d)
trap '"${sudo[@]}" rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir -m 755 "$tmp/debs"   # apt downloads as user _apt
if id _apt >/dev/null 2>&1; then "${sudo[@]}" chown _apt "$tmp/debs"; fi
# SLEEF (libtconv's initializers) the same way: libsleef3 needs only libc6;
# and hwloc (libtconv's topology), whose libhwloc15 needs libudev1 besides.
(cd "$tmp/debs" && "${sudo[@]}" apt-get download -qq libcriterion-dev:arm64 "${debs[@]}" \
    libsleef3:arm64 libsleef-dev:arm64 libhwloc15:arm64 libhwloc-dev:arm64 libudev1:arm64)
"${sudo[@]}" rm -rf "$sysroot.new"
"${sudo[@]}" mkdir -p "$sysroot.new/pkgconfig"
for deb in "$tmp"/debs/*.deb; do
    "${sudo[@]}" dpkg-deb -x "$deb" "$sysroot.new"
done
# Not the packaged .pc: its Requires.private (boxfort, libffi, libgit2,
# nanomsg) would need their -dev packages, which a shared-library link
# does not. -rpath-link lets the linker check libcriterion.so's own
# dependencies; at run time the cross file's qemu sets LD_LIBRARY_PATH.
version=$(dpkg-deb -f "$tmp"/debs/libcriterion-dev_*.deb Version | sed 's/-[^-]*$//')
"${sudo[@]}" tee "$sysroot.new/pkgconfig/criterion.pc" >/dev/null <<EOF
prefix=$sysroot/usr
includedir=\${prefix}/include
libdir=\${prefix}/lib/$triplet

Name: criterion
Description: Criterion for arm64, unpacked from Debian's packages by scripts/install-deps-aarch64.sh
Version: $version
Libs: -L\${libdir} -Wl,-rpath-link,\${libdir} -Wl,-rpath-link,$sysroot/lib/$triplet -lcriterion
Cflags: -I\${includedir}
EOF
# A .pc file for an unpacked library: name, include directory below
# $sysroot/usr (SLEEF's header is in the multiarch one), version from its
# -dev package.
write_pc() {
    local name=$1 incdir=$2 dev=$3 version
    version=$(dpkg-deb -f "$tmp"/debs/"$dev"_*.deb Version | sed 's/-[^-]*$//')
    "${sudo[@]}" tee "$sysroot.new/pkgconfig/$name.pc" >/dev/null <<EOF
prefix=$sysroot/usr
includedir=\${prefix}/$incdir
libdir=\${prefix}/lib/$triplet

Name: $name
Description: $name for arm64, unpacked from Debian's packages by scripts/install-deps-aarch64.sh
Version: $version
Libs: -L\${libdir} -l$name
Cflags: -I\${includedir}
EOF
}
write_pc sleef "include/$triplet" libsleef-dev
write_pc hwloc include libhwloc-dev
cp "$(dirname "$0")/../cross/qemu-execve.c" "$tmp/qemu-execve.c"
"${sudo[@]}" mkdir -p "$sysroot.new/preload"
"${sudo[@]}" "$triplet-gcc" -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC \
    -DQEMU="\"$(command -v qemu-aarch64)\"" -DQEMU_LD_PREFIX="\"/usr/$triplet\"" \
    "$tmp/qemu-execve.c" -o "$sysroot.new/preload/qemu-execve.so"
"${sudo[@]}" rm -rf "$sysroot"
"${sudo[@]}" mv "$sysroot.new" "$sysroot"
echo "$stamp_version" | "${sudo[@]}" tee "$stamp" >/dev/null
