# hosts.sh (sourced): three hosts emulated on this machine, for tests of what crosses a network.
#
# Each host is a network namespace with a veth on a private 10.77.0.0/24 (10.77.0.1-3) and a
# host name of its own; the veths meet at a bridge in a fourth namespace, so nothing in this
# machine's own network changes. Open MPI reaches hosts 2 and 3 from host 1 through agent.sh
# instead of ssh, and talks TCP over the bridge only ($MPIRUN_ARGS). Sourcing it makes the
# hosts and sets: $id (run name), $subnet, $tmp (removed on exit), $tmp/hostfile (host 1 with
# 2 slots, hosts 2 and 3 with 1), on_host N COMMAND... (runs COMMAND as host N), and cleanup on
# exit, write_hostfile (other slot counts) and timed_launch (a launch that must end promptly).
# Needs root, iproute2, unshare and bc; exits 77 (skipped) without them.
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v unshare >/dev/null ||
  ! command -v bc >/dev/null; then
  echo "SKIP: needs root, ip (iproute2), unshare and bc"
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

# write_hostfile FILE S1 S2 S3: a hostfile with S1, S2 and S3 slots on hosts 1, 2 and 3.
write_hostfile() {
  local file=$1 i
  shift
  : >"$file"
  for i in 1 2 3; do echo "$subnet.$i slots=$1" >>"$file" && shift; done
}

# timed_launch LIMIT EXPECTED_RC COMMAND...: runs COMMAND, each output line on stdout with the
# seconds since the start before it, then checks that it exited with EXPECTED_RC and at most
# LIMIT seconds after the program's last line of output (Open MPI's own, "[host:pid] ...", not
# counted): a job that did its work must also end. Returns non-zero, saying why, if not. Its
# output stays in $tmp/launch.out (without the times).
timed_launch() {
  local limit=$1 expected=$2 start rc last end
  shift 2
  start=$(date +%s.%N)
  "$@" 2>&1 | while IFS= read -r line; do
    printf '%6.2f %s\n' "$(bc <<<"$(date +%s.%N) - $start")" "$line"
  done >"$tmp/launch.timed"
  rc=${PIPESTATUS[0]}
  end=$(bc <<<"$(date +%s.%N) - $start")
  cat "$tmp/launch.timed"
  cut -c8- "$tmp/launch.timed" >"$tmp/launch.out"
  # The program's last line: not Open MPI's ([host:pid] ...), nor the watcher's that ends mpirun.
  last=$(grep -Ev '^ *[0-9.]+ (\[[^]]*:[0-9]+\] |ranks: mpirun \(pid)' "$tmp/launch.timed" |
    tail -n 1 | awk '{print $1}')
  last=${last:-0}
  printf '%6.2f (exit status %s; %.2f s after the last line)\n' "$end" "$rc" \
    "$(bc <<<"$end - $last")"
  if [ "$rc" -ne "$expected" ]; then
    echo "FAIL: exit status $rc, expected $expected"
    return 1
  fi
  if [ "$(bc <<<"$end - $last > $limit")" -eq 1 ]; then
    echo "FAIL: ended $(bc <<<"$end - $last") s after its last line (limit $limit s)"
    return 1
  fi
}

# on_host N COMMAND...: runs COMMAND as host N would (its network, its host name).
on_host() {
  local n=$1
  shift
  ip netns exec "$id-h$n" unshare --uts \
    /bin/sh -c 'hostname "$1" && shift && exec "$@"' sh "$id-h$n" "$@"
}
