#!/usr/bin/env bash
# first_error.sh BUILD_DIR TARGET ERROR [BEFORE]: building TARGET must fail, its first error
# line must match ERROR (ranks' own message, ahead of anything from Boost or the standard
# library) and, if given, BEFORE must match a line ahead of it (where the compiler names the
# type).
set -uo pipefail
build=$1 target=$2 error=$3 before=${4:-}
# (Without the colours a terminal may have asked the compiler for.)
out=$(cmake --build "$build" --target "$target" 2>&1 | sed 's/\x1b\[[0-9;]*[mK]//g'; exit "${PIPESTATUS[0]}") &&
  { printf '%s\n' "$out" | tail -20; echo "FAIL: $target compiled"; exit 1; }
# The first error the compiler gives (FILE:LINE:COLUMN: error:), not a line of make or ccache.
first=$(grep -m1 -nE ":[0-9]+:[0-9]+: error:" <<<"$out")
[ -n "$first" ] || { printf '%s\n' "$out"; echo "FAIL: no error line"; exit 1; }
echo "first error: ${first#*:}"
grep -Eq -- "$error" <<<"$first" ||
  { printf '%s\n' "$out" | head -60; echo "FAIL: the first error does not match: $error"; exit 1; }
if [ -n "$before" ]; then
  # (Into a variable first: under pipefail, grep -q ending the pipe early would fail head.)
  ahead=$(head -n "${first%%:*}" <<<"$out")
  grep -Eq -- "$before" <<<"$ahead" ||
    { printf '%s\n' "$out" | head -60; echo "FAIL: nothing before the first error matches: $before"; exit 1; }
fi
echo PASS
