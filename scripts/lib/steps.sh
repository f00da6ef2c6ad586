# shellcheck shell=bash
# Sourced by scripts/test.sh, scripts/sanitize.sh and scripts/fuzz.sh: a scratch folder, the
# pass/fail/skip counters, the summary line printed on every exit, the failure report, and the
# set-up and compile of an extra build folder.
#
# Before sourcing, set `script` (the script's name in messages) and `summary` (the summary
# line's label, e.g. "tests"). The last line of output is always
#   <summary>: N passed, M failed, K skipped
# and a failing step that is not a test (a build) counts as one failure.

work=$(mktemp -d)
passed=0
failed=0
skipped=0

finish() {
  local rc=$?
  rm -rf "$work"
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo "${summary:?}: $passed passed, $failed failed, $skipped skipped"
  exit "$rc"
}
trap finish EXIT

step() { echo "==> $*"; }

# die MESSAGE [LOG]: reports a failed step, with the end of its log, and exits.
die() {
  echo "${script:?}: FAILED: $1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    echo "---- last lines of the log ----" >&2
    tail -n 60 "$2" >&2
    echo "-------------------------------" >&2
  fi
  exit 1
}

# add "P F S": adds counts printed by a parser.
add() {
  local p f s
  read -r p f s <<<"$1"
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
}

# meson_build DIR OPTION...: sets DIR up with the options (or, when it exists, reconfigures it
# with them), then compiles it; the logs go to the scratch folder and a failure reports the end of
# its log. Environment set on the call (CC=... meson_build ...) reaches meson setup.
meson_build() {
  local dir=$1 name
  shift
  name=$(basename "$dir")
  step "meson setup $name"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$work/setup-$name.log" 2>&1 || die "meson setup $name" "$work/setup-$name.log"
  else
    meson configure "$dir" "$@" >"$work/setup-$name.log" 2>&1 ||
      die "meson configure $name" "$work/setup-$name.log"
  fi
  step "meson compile -C $name"
  meson compile -C "$dir" >"$work/compile-$name.log" 2>&1 ||
    die "meson compile -C $name" "$work/compile-$name.log"
}
