#!/usr/bin/env bash
# run.sh PROGRAM [MPIRUN]: runs PROGRAM (tests/programs/hosts.cpp) with a hostfile over three
# hosts emulated on this machine (hosts.sh), and checks that the engines ran on different hosts
# and that mpirun exited 0 within 10 s of the program's last line.
set -euo pipefail
prog=$(realpath "$1")
mpirun=${2:-mpirun}
source "$(dirname "$0")/hosts.sh"
echo "== hosts (address, namespace, host name):"
cat "$tmp/map"
echo "== hostfile:"
cat "$tmp/hostfile"

fail() { echo "FAIL: $*"; exit 1; }
# shellcheck disable=SC2206
cmd=(timeout -k 5 60 "$mpirun" --hostfile "$tmp/hostfile" -np 4 $MPIRUN_ARGS "$prog")
echo "== from host 1: ${cmd[*]}"
timed_launch 10 0 on_host 1 "${cmd[@]}" || fail "mpirun"
out=$(cat "$tmp/launch.out")
own_ns=$(readlink /proc/self/ns/net)
engines=$(grep -E '^engine ' <<<"$out" || true)
[ "$(wc -l <<<"$engines")" -eq 3 ] || fail "expected 3 engine lines"
grep -q -- "netns=$own_ns" <<<"$engines" && fail "an engine ran in this machine's own namespace"
for i in 1 2 3; do
  grep -Eq "host=$id-h$i netns=net:\[[0-9]+\] ip=$subnet\.$i\$" <<<"$engines" ||
    fail "no engine on host $i ($subnet.$i)"
done
grep -q "^controller host=$id-h1 .* ip=$subnet.1\$" <<<"$out" || fail "controller not on host 1"
grep -q '^hosts=3 netns=3 addresses=3$' <<<"$out" || fail "engines not on 3 distinct hosts"
grep -q '^sum=332833500$' <<<"$out" || fail "wrong map result"
grep -q '^shared: queue_hosts=3 dict_hosts=3 pipe_bytes=1048576$' <<<"$out" ||
  fail "a queue, a dict and a pipe across the hosts"
grep -q '^sync: parties=4 locked=2000 added=2000 array_ok=1$' <<<"$out" ||
  fail "a barrier, a lock, values and an array across the hosts"
echo "PASS"
