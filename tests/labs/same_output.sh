#!/usr/bin/env bash
# same_output.sh [--any-order] EXPECTED COMMAND...: runs COMMAND; passes when it exits 0 and
# prints on stdout exactly the lines of the file EXPECTED (what Python prints for the example the
# lab is a twin of: tests/labs/python_examples.py prints them all); with --any-order, the same
# lines in any order (EXPECTED has them sorted), each whole.
set -uo pipefail
sorted=cat
if [ "$1" = --any-order ]; then
  sorted="sort"
  shift
fi
expected=$1
shift
out=$("$@" 2>/tmp/same_output.$$.err | $sorted)
rc=$?
err=$(cat /tmp/same_output.$$.err)
rm -f /tmp/same_output.$$.err
[ "$rc" -eq 0 ] || { printf '%s\n%s\n' "$out" "$err"; echo "FAIL: exit status $rc"; exit 1; }
if [ "$out" != "$(cat "$expected")" ]; then
  printf 'printed:\n%s\nexpected:\n%s\n%s\n' "$out" "$(cat "$expected")" "$err"
  echo "FAIL: not what Python prints"
  exit 1
fi
printf '%s\n' "$out"
echo PASS
