#!/usr/bin/env bash
# launches.sh COUNT PROGRAM [ARGS...]: how often a launch across three hosts emulated on this
# machine (hosts.sh) fails. Sets the hosts up once, then runs `mpirun --hostfile -np 4
# $MPIRUN_ARGS $LAUNCHES_MPIRUN_ARGS PROGRAM ARGS...` from host 1 COUNT times, each under a
# 60 s timeout, and sorts each failure by its cause: a daemon that crashed in
# hwloc_shmem_topology_write, another "unable to reliably start" daemons, a timeout, or other.
# PROGRAM may be any command (hostname: Open MPI's own launch, without ranks). Remote daemons
# run detached (orted --daemonize), so a crash of theirs may show only in the kernel's log: the
# count of orted segfaults there (this machine's, anyone's) is printed at the end. The output of
# each failed launch is kept in $LAUNCHES_KEEP (a directory) when that is set.
set -euo pipefail
count=$1
shift
source "$(dirname "$0")/hosts.sh"
keep=${LAUNCHES_KEEP:-}
[ -z "$keep" ] || mkdir -p "$keep"
orted_segfaults() { { dmesg 2>/dev/null || true; } | grep -c 'orted\[[0-9]*\]: segfault' || true; }
segfaults_before=$(orted_segfaults)
ok=0 hwloc=0 daemons=0 timeouts=0 other=0
for ((i = 1; i <= count; i++)); do
  rc=0
  # shellcheck disable=SC2086
  on_host 1 timeout -k 5 60 mpirun --hostfile "$tmp/hostfile" -np 4 $MPIRUN_ARGS \
    ${LAUNCHES_MPIRUN_ARGS:-} "$@" >"$tmp/out" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    ok=$((ok + 1))
    continue
  fi
  if grep -q hwloc_shmem_topology_write "$tmp/out"; then
    hwloc=$((hwloc + 1)) why=hwloc
  elif grep -q "unable to reliably start" "$tmp/out"; then
    daemons=$((daemons + 1)) why=daemons
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    timeouts=$((timeouts + 1)) why=timeout
  else
    other=$((other + 1)) why=other
  fi
  echo "launch $i: exit $rc ($why)"
  [ -z "$keep" ] || cp "$tmp/out" "$keep/$i.$why.out"
done
echo "launches=$count ok=$ok failed=$((count - ok)) hwloc_shmem_topology_write=$hwloc" \
  "unable_to_start_other=$daemons timeout=$timeouts other=$other" \
  "orted_segfaults_in_kernel_log=$(($(orted_segfaults) - segfaults_before))"
