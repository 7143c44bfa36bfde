#!/usr/bin/env bash
# first_error.sh BUILD_DIR TARGET ERROR [BEFORE]: building TARGET must fail, its first error
# line must match ERROR (ranks' own message, ahead of anything from Boost or the standard
# library) and, if given, BEFORE must match a line ahead of it (where the compiler names the
# type).
set -uo pipefail
build=$1 target=$2 error=$3 before=${4:-}
out=$(cmake --build "$build" --target "$target" 2>&1) && { echo "FAIL: $target compiled"; exit 1; }
first=$(grep -m1 -n "error:" <<<"$out")
[ -n "$first" ] || { printf '%s\n' "$out"; echo "FAIL: no error line"; exit 1; }
echo "first error: ${first#*:}"
grep -Eq -- "$error" <<<"$first" || { echo "FAIL: the first error does not match: $error"; exit 1; }
if [ -n "$before" ]; then
  head -n "${first%%:*}" <<<"$out" | grep -Eq -- "$before" ||
    { echo "FAIL: nothing before the first error matches: $before"; exit 1; }
fi
echo PASS
