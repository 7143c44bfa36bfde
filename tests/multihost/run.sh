#!/usr/bin/env bash
# run.sh PROGRAM [MPIRUN]: runs PROGRAM (tests/programs/hosts.cpp) with a hostfile over three
# hosts emulated on this machine, and checks that the engines ran on different hosts.
#
# Each host is a network namespace with a veth on a private 10.77.0.0/24 (10.77.0.1-3) and a
# host name of its own; the veths meet at a bridge in a fourth namespace, so nothing in this
# machine's own network changes. mpirun starts in host 1 and reaches hosts 2 and 3 through
# agent.sh instead of ssh; MPI and Open MPI's daemons talk TCP over the bridge only.
# Everything is removed on exit. Needs root and iproute2; exits 77 (skipped) without them.
set -euo pipefail
prog=$(realpath "$1")
mpirun=${2:-mpirun}
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v unshare >/dev/null; then
  echo "SKIP: needs root, ip (iproute2) and unshare"
  exit 77
fi

id=rkmh$$                         # names of this run: namespaces $id-sw, $id-h1..3
subnet=10.77.0
tmp=$(mktemp -d)
namespaces=()

cleanup() {
  local rc=$? ns
  trap - EXIT INT TERM
  for ns in "${namespaces[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  done
  for ns in "${namespaces[@]}"; do
    ip netns del "$ns" 2>/dev/null || true   # takes its veths and the bridge with it
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! ip netns add "$id-sw" 2>/dev/null; then
  echo "SKIP: cannot create network namespaces here"
  exit 77
fi
namespaces+=("$id-sw")
ip -n "$id-sw" link set lo up
ip -n "$id-sw" link add br0 type bridge forward_delay 0 stp_state 0
ip -n "$id-sw" link set br0 up

: >"$tmp/map"
: >"$tmp/hostfile"
for i in 1 2 3; do
  ns=$id-h$i
  ip netns add "$ns"
  namespaces+=("$ns")
  ip -n "$ns" link set lo up
  ip -n "$id-sw" link add "h$i" type veth peer name eth0 netns "$ns"
  ip -n "$id-sw" link set "h$i" master br0 up
  ip -n "$ns" addr add "$subnet.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  echo "$subnet.$i $ns $id-h$i" >>"$tmp/map"
  slots=1
  [ "$i" -eq 1 ] && slots=2        # rank 0 (controller) and engine 1; engines 2 and 3 elsewhere
  echo "$subnet.$i slots=$slots" >>"$tmp/hostfile"
done
echo "== hosts (address, namespace, host name):"
cat "$tmp/map"
echo "== hostfile:"
cat "$tmp/hostfile"

export RANKS_MULTIHOST_MAP=$tmp/map
export TMPDIR=$tmp                  # Open MPI's session directories
cmd=(timeout -k 5 60 "$mpirun" --hostfile "$tmp/hostfile" -np 4
     --mca plm_rsh_agent "$here/agent.sh" --mca plm_rsh_no_tree_spawn 1
     --mca pml ob1 --mca btl tcp,self
     --mca btl_tcp_if_include "$subnet.0/24" --mca oob_tcp_if_include "$subnet.0/24"
     "$prog")
echo "== from host 1: ${cmd[*]}"
ip netns exec "$id-h1" unshare --uts \
  /bin/sh -c 'hostname "$1" && shift && exec "$@"' sh "$id-h1" "${cmd[@]}" >"$tmp/out" 2>&1 &
rc=0
wait $! || rc=$?                    # (a signal to this script interrupts wait; cleanup runs)
out=$(cat "$tmp/out")
printf '%s\n' "$out"
echo "exit status: $rc"

fail() { echo "FAIL: $*"; exit 1; }
[ "$rc" -eq 0 ] || fail "mpirun exited with $rc"
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
echo "PASS"
