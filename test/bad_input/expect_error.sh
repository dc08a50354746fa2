#!/usr/bin/env bash
# expect_error.sh CODE REGEX [REGEX...] -- CMD [ARGS...]
#
# Runs CMD and passes (exit 0) iff
#   - it exited with status CODE (and was not killed by a signal),
#   - its stderr is exactly one non-empty line,
#   - that line matches the extended regular expression REGEX (every REGEX,
#     when more than one is given: use that for words that may come in any
#     order).
# Otherwise prints the command, its exit status, its stdout and stderr and
# what was wrong, and exits 1. Bad usage of this script exits 2.
set -u

usage() {
  echo "usage: expect_error.sh CODE REGEX [REGEX...] -- CMD [ARGS...]" >&2
  exit 2
}

[[ $# -ge 4 ]] || usage
code=$1
shift
[[ $code =~ ^[0-9]+$ ]] || usage
regexes=()
while [[ $# -gt 0 && $1 != "--" ]]; do
  regexes+=("$1")
  shift
done
[[ $# -ge 2 && ${#regexes[@]} -ge 1 ]] || usage
shift # --

tmp=$(mktemp -d "${TMPDIR:-/tmp}/expect_error.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

"$@" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
rc=$?

problems=()
if [[ $rc -gt 128 && $rc -le 192 ]]; then
  sig=$(kill -l $((rc - 128)) 2>/dev/null || echo "?")
  problems+=("killed by signal $((rc - 128)) (SIG$sig)")
elif [[ $rc -ne $code ]]; then
  problems+=("exit status $rc, expected $code")
fi

stderr=$(<"$tmp/stderr") # drops trailing newlines
lines=$(printf '%s' "$stderr" | awk 'END { print NR }')
if [[ -z ${stderr//[[:space:]]/} ]]; then
  problems+=("stderr is empty, expected one line")
elif [[ $lines -ne 1 ]]; then
  problems+=("stderr has $lines lines, expected exactly one")
else
  for re in "${regexes[@]}"; do
    if ! printf '%s\n' "$stderr" | grep -Eq -- "$re"; then
      problems+=("stderr does not match /$re/")
    fi
  done
fi

if [[ ${#problems[@]} -eq 0 ]]; then
  exit 0
fi

{
  printf 'expect_error: FAILED:'
  printf ' %q' "$@"
  printf '\n'
  for p in "${problems[@]}"; do
    echo "  - $p"
  done
  echo "  exit status: $rc"
  echo "  --- stderr ---"
  cat "$tmp/stderr"
  echo "  --- stdout ---"
  cat "$tmp/stdout"
  echo "  --------------"
} >&2
exit 1
