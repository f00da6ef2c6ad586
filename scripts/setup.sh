#!/usr/bin/env bash
# Installs everything cudago needs on a fresh Debian 12 (bookworm) machine:
# Meson and Go from bookworm-backports, Ninja, GoogleTest, pkg-config, a C/C++ toolchain and
# clang-format. The CUDA toolkit itself is expected in /usr/local/cuda (or $CUDA_PATH).
# Idempotent and quiet on success; prints what went wrong otherwise.
set -euo pipefail

log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { echo "setup.sh: $*" >&2; cat "$log" >&2; exit 1; }

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || echo "setup.sh: written for Debian 12 (bookworm), found ${PRETTY_NAME:-unknown}; trying anyway" >&2

src=/etc/apt/sources.list.d/bookworm-backports.sources
if [ ! -f "$src" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  $sudo tee "$src" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

pkgs=(build-essential pkg-config ninja-build libgtest-dev googletest clang-format git python3)
bpo=(meson golang-1.23-go)
need=0
for p in "${pkgs[@]}" "${bpo[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need=1
done
if [ "$need" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >"$log" 2>&1 || fail "apt-get update failed"
  $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1 || fail "apt-get install failed"
  $sudo apt-get install -y -qq --no-install-recommends -t bookworm-backports "${bpo[@]}" >>"$log" 2>&1 ||
    fail "apt-get install from bookworm-backports failed"
fi

# Go 1.23 lives in /usr/lib/go-1.23/bin; put go and gofmt on PATH.
for t in go gofmt; do
  if [ ! -x "/usr/local/bin/$t" ] || [ "$(readlink -f "/usr/local/bin/$t")" != "/usr/lib/go-1.23/bin/$t" ]; then
    $sudo ln -sf "/usr/lib/go-1.23/bin/$t" "/usr/local/bin/$t"
  fi
done

cuda=${CUDA_PATH:-/usr/local/cuda}
[ -x "$cuda/bin/nvcc" ] || fail "no CUDA toolkit: $cuda/bin/nvcc not found (install CUDA 12.4+ or set CUDA_PATH)"

meson_v=$(meson --version)
case "$meson_v" in 0.*|1.[0-3].*) fail "meson $meson_v is too old (need >= 1.4)";; esac
exit 0
