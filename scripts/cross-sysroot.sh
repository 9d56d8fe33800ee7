#!/usr/bin/env bash
# Builds the target-architecture half of a cross build: Debian's arm64 or armhf packages of
# xbnn's dependencies (headers, libraries, their CMake configs) and the target's C/C++ runtime,
# unpacked with `dpkg -x` into .cache/sysroot-ARCH (they cannot be co-installed with the host's
# -dev packages). The cross toolchains link against it and qemu runs the tests with it as -L.
# Idempotent: does nothing when the sysroot already holds the listed package versions.
#
#   scripts/cross-sysroot.sh arm64|armhf
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ARCH="${1:-}"
case "$ARCH" in
  arm64 | armhf) ;;
  *) echo "usage: $0 arm64|armhf" >&2; exit 2 ;;
esac
SYSROOT="$ROOT/.cache/sysroot-$ARCH"
PKGS=(
  # Build: headers, link libraries and CMake package configs.
  libflatbuffers-dev libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libgtest-dev libgmock-dev zlib1g-dev
  # Run (under qemu, and what a device needs): the shared libraries and the C/C++ runtime.
  libflatbuffers2 libxnnpack0 libpthreadpool0 libcpuinfo0 zlib1g
  libc6 libstdc++6 libgcc-s1
)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
if ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
  echo "cross-sysroot: adding Debian architecture $ARCH"
  $SUDO dpkg --add-architecture "$ARCH"
  bash "$ROOT/scripts/apt-update.sh" ||
    echo "cross-sysroot: apt-get update failed; going on with the package lists apt has" >&2
fi

# The exact versions apt would fetch; the stamp records them so a rerun is a no-op.
versions() {
  local names=() found
  for p in "${PKGS[@]}"; do names+=("$p:$ARCH"); done
  # One apt-cache call (each loads the package lists): "name:arch:" lines, then "Candidate: v".
  found="$(apt-cache policy "${names[@]}" 2>/dev/null | awk -v arch=":$ARCH" '
    /^[^ ].*:$/ { name = substr($0, 1, length($0) - 1); sub(arch "$", "", name) }
    /^  Candidate:/ { print name "=" $2 }')"
  for p in "${PKGS[@]}"; do
    grep -m1 "^$p=" <<<"$found" || echo "$p=(none)"
  done
}
want="$(versions)"
if grep -q '=(none)$\|=$' <<<"$want"; then
  bash "$ROOT/scripts/apt-update.sh" ||
    echo "cross-sysroot: apt-get update failed; going on with the package lists apt has" >&2
  want="$(versions)"
fi
if missing="$(grep '=(none)$\|=$' <<<"$want")"; then
  echo "cross-sysroot: no $ARCH package for: $(cut -d= -f1 <<<"$missing" | tr '\n' ' ')" >&2
  exit 1
fi
stamp="$SYSROOT/.xbnn-packages"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

echo "cross-sysroot: unpacking ${#PKGS[@]} $ARCH packages into $SYSROOT"
rm -rf "$SYSROOT"
debs="$ROOT/.cache/debs-$ARCH"
rm -rf "$debs"
mkdir -p "$debs" "$SYSROOT"
args=()
while IFS= read -r line; do args+=("${line%%=*}:$ARCH=${line#*=}"); done <<<"$want"
# apt's sandbox user may not write to the worktree: download in a temporary directory.
tmp="$(mktemp -d)"
chmod 755 "$tmp"
(cd "$tmp" && apt-get download -qq "${args[@]}" >/dev/null 2>&1) ||
  (cd "$tmp" && apt-get download "${args[@]}")
mv "$tmp"/*.deb "$debs/"
rmdir "$tmp"
for deb in "$debs"/*.deb; do dpkg -x "$deb" "$SYSROOT"; done
rm -rf "$debs"
# Absolute symlinks (libz.so -> /lib/...) point into the host: make them point into the sysroot.
find "$SYSROOT" -type l -lname '/*' -print0 | while IFS= read -r -d '' link; do
  ln -sfn "$SYSROOT$(readlink "$link")" "$link"
done
echo "$want" >"$stamp"
