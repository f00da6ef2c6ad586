# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/sanitize.sh: a scratch folder, the pass/fail/skip
# counters, the summary line printed on every exit, and the failure report.
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
