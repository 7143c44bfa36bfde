#!/usr/bin/env bash
# sync.sh CONFORMANCE SYNC_LOST DESIGN MPIRUN: the objects in shared memory across three hosts
# emulated on this machine (hosts.sh): CPython's tests of them (CONFORMANCE,
# tests/sync_conformance_test) and DESIGN.md's examples of its section "Between processes"
# (DESIGN between) with the controller and an engine on host 1, engines on hosts 2 and 3 (theirs
# served by the controller over TCP); then a lock whose holder on another host than the
# program's is killed (SYNC_LOST lock, under --enable-recovery): the program has it back, and
# says how long after the death.
set -euo pipefail
conformance=$(realpath "$1")
lost=$(realpath "$2")
design=$(realpath "$3")
mpirun=${4:-mpirun}
source "$(dirname "$0")/hosts.sh"
fail() { echo "FAIL: $*"; exit 1; }

echo "== CPython's tests of locks, events, conditions, barriers, values and arrays (-np 4)"
# shellcheck disable=SC2086
timed_launch 10 0 on_host 1 timeout -k 5 120 "$mpirun" --hostfile "$tmp/hostfile" -np 4 \
  $MPIRUN_ARGS "$conformance" || fail "the conformance suite across hosts"
grep -q "PASSED" "$tmp/launch.out" || fail "the conformance suite did not pass"

echo "== DESIGN.md's examples between processes (-np 4)"
# shellcheck disable=SC2086
timed_launch 10 0 on_host 1 timeout -k 5 120 "$mpirun" --hostfile "$tmp/hostfile" -np 4 \
  $MPIRUN_ARGS "$design" between || fail "DESIGN.md's examples across hosts"
grep -q "the between-processes DESIGN.md examples behaved as documented" "$tmp/launch.out" ||
  fail "DESIGN.md's examples across hosts"

echo "== a lock whose holder on another host is killed (-np 4, --enable-recovery)"
# shellcheck disable=SC2086
timed_launch 10 0 on_host 1 env RANKS_TEST_FAR=1 timeout -k 5 60 "$mpirun" \
  --hostfile "$tmp/hostfile" -np 4 --enable-recovery $MPIRUN_ARGS "$lost" lock ||
  fail "lock across hosts: mpirun"
out=$(cat "$tmp/launch.out")
grep -q "lock: every check held" <<<"$out" || fail "the lock across hosts"
grep -Eq "engine [0-9]+ \(pid [0-9]+ on $id-h[23]\) died of signal 9" <<<"$out" ||
  fail "the holder was not on host 2 or 3"
grep -E "lock: the lost holder's .* came back" <<<"$out"
echo "PASS"
