# hosts.sh (sourced): three hosts emulated on this machine, for tests of what crosses a network.
#
# Each host is a network namespace with a veth on a private 10.77.0.0/24 (10.77.0.1-3) and a
# host name of its own; the veths meet at a bridge in a fourth namespace, so nothing in this
# machine's own network changes. Open MPI reaches hosts 2 and 3 from host 1 through agent.sh
# instead of ssh, and talks TCP over the bridge only ($MPIRUN_ARGS). Sourcing it makes the
# hosts and sets: $id (run name), $subnet, $tmp (removed on exit), $tmp/hostfile (host 1 with
# 2 slots, hosts 2 and 3 with 1), on_host N COMMAND... (runs COMMAND as host N), and cleanup on
# exit. Needs root, iproute2 and unshare; exits 77 (skipped) without them.
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v unshare >/dev/null; then
  echo "SKIP: needs root, ip (iproute2) and unshare"
  exit 77
fi

multihost_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
id=rkmh$$                         # names of this run: namespaces $id-sw, $id-h1..3
subnet=10.77.0
tmp=$(mktemp -d)
namespaces=()

multihost_cleanup() {
  local rc=$? ns
  trap - EXIT INT TERM
  if declare -F before_cleanup >/dev/null; then before_cleanup || true; fi
  for ns in "${namespaces[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  done
  for ns in "${namespaces[@]}"; do
    ip netns del "$ns" 2>/dev/null || true   # takes its veths and the bridge with it
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap multihost_cleanup EXIT
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
  [ "$i" -eq 1 ] && slots=2        # rank 0 and one engine; one engine on each other host
  echo "$subnet.$i slots=$slots" >>"$tmp/hostfile"
done

export RANKS_MULTIHOST_MAP=$tmp/map
export TMPDIR=$tmp                  # Open MPI's session directories
# rtc_hwloc_vmhole none: no daemon writes the hardware topology into a file (hwloc.sm, in its
# session directory) for its processes to map; each process reads the topology itself. These
# hosts share this machine's /tmp, and two processes writing one such file at once crash in
# hwloc_shmem_topology_write (in 9 of 100 tries, outside MPI); a daemon that crashes there
# fails the whole launch. launches.sh counts failed launches.
MPIRUN_ARGS="--mca plm_rsh_agent $multihost_dir/agent.sh --mca plm_rsh_no_tree_spawn 1 --mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include $subnet.0/24 --mca oob_tcp_if_include $subnet.0/24 --mca rtc_hwloc_vmhole none"

# on_host N COMMAND...: runs COMMAND as host N would (its network, its host name).
on_host() {
  local n=$1
  shift
  ip netns exec "$id-h$n" unshare --uts \
    /bin/sh -c 'hostname "$1" && shift && exec "$@"' sh "$id-h$n" "$@"
}
