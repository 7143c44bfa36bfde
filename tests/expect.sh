#!/usr/bin/env bash
# expect.sh CODE REGEX COMMAND...: runs COMMAND; passes when its exit status is CODE ("nonzero":
# any but 0) and its output (stdout and stderr) matches REGEX.
code=$1 regex=$2
shift 2
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
echo "exit status: $rc"
if [ "$code" = nonzero ]; then
  [ "$rc" -ne 0 ] || { echo "FAIL: expected a non-zero exit status"; exit 1; }
else
  [ "$rc" -eq "$code" ] || { echo "FAIL: expected exit status $code"; exit 1; }
fi
grep -Eq -- "$regex" <<<"$out" || { echo "FAIL: output does not match: $regex"; exit 1; }
echo "PASS"
