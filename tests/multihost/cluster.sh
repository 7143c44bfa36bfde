#!/usr/bin/env bash
# cluster.sh BUILD_DIR: a started cluster across three hosts emulated on this machine (hosts.sh).
# `ranks cluster start --hostfile` on host 1, as a login node would run it, puts the hub and an
# engine there and an engine on each other host; programs run plain on host 1 attach through
# the hub, which relays their messages to the engines over the cluster's own MPI.
set -euo pipefail
build=$(cd "$1" && pwd)
ranks=$build/apps/ranks/ranks
source "$(dirname "$0")/hosts.sh"
export RANKS_PROFILE_DIR=$tmp/profiles
unset RANKS_CLUSTER
before_cleanup() { on_host 1 "$ranks" cluster stop >/dev/null 2>&1; }
fail() { echo "FAIL: $*"; exit 1; }

echo "== ranks cluster start -n 3 --hostfile (3 hosts), on host 1"
on_host 1 "$ranks" cluster start -n 3 --hostfile "$tmp/hostfile" --mpirun-args "$MPIRUN_ARGS" ||
  fail "start: $(cat "$RANKS_PROFILE_DIR/default/cluster.log" 2>/dev/null)"
status=$(on_host 1 "$ranks" cluster status --json)
hosts=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len({e["host"] for e in d["engines"] if e["alive"]}), d["mode"])' <<<"$status")
[ "$hosts" = "3 relay" ] || fail "expected 3 engines on 3 hosts, relayed: $hosts
$status"

echo "== a program on host 1 attaches: where its tasks run"
out=$(on_host 1 timeout 60 "$build/tests/hosts" 2>&1) || fail "hosts attached: $out"
printf '%s\n' "$out"
for i in 1 2 3; do
  grep -Eq "^engine [0-9] host=$id-h$i .* ip=$subnet\.$i\$" <<<"$out" || fail "no engine on host $i"
done
grep -q '^hosts=3 netns=3 addresses=3$' <<<"$out" || fail "engines not on 3 distinct hosts"
grep -q '^sum=332833500$' <<<"$out" || fail "wrong map result"
grep -q '^shared: queue_hosts=3 dict_hosts=3 pipe_bytes=1048576$' <<<"$out" ||
  fail "a queue, a dict and a pipe across the hosts"
grep -q '^sync: parties=4 locked=2000 added=2000 array_ok=1$' <<<"$out" ||
  fail "a barrier, a lock, values and an array across the hosts"

echo "== two programs in a row share the engines' namespaces across hosts"
on_host 1 timeout 60 "$build/tests/cluster_client" push answer 42 >/dev/null || fail "push"
out=$(on_host 1 timeout 60 "$build/tests/cluster_client2" pull answer 2>&1) || fail "pull: $out"
[ "$(grep -c '^answer=42$' <<<"$out")" -eq 3 ] || fail "the value did not reach every host: $out"
out=$(on_host 1 timeout 60 "$build/tests/cluster_client" map 2>&1) || fail "map: $out"
grep -q "sum=285" <<<"$out" || fail "map: $out"

echo "== a Pool larger than the cluster: no engines can be started beside those on other hosts"
out=$(on_host 1 timeout 60 "$build/tests/cluster_client" pool 5 2>&1) &&
  fail "Pool(5) on 3 engines across hosts ran: $out"
grep -q "needs 5 engines but cluster 'default' has 3; its engines run on other hosts" <<<"$out" ||
  fail "Pool(5) across hosts: $out"

echo "== stop: nothing left on any host"
on_host 1 "$ranks" cluster stop || fail "stop"
sleep 0.3
left=$(for ns in "${namespaces[@]}"; do ip netns pids "$ns"; done | xargs -r ps -o pid=,args= -p | grep -v "agent.sh" || true)
[ -z "$left" ] || fail "processes left after stop:
$left"
echo "PASS"
