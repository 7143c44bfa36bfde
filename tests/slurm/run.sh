#!/usr/bin/env bash
# run.sh SBATCH_SCRIPT PROGRAM...: starts a private single-node Slurm cluster on this machine,
# submits SBATCH_SCRIPT PROGRAM... with sbatch --wait, and checks the job's output:
#  - apps/slurm/ranks_job.sbatch PROGRAM: PROGRAM (tests/programs/hosts.cpp) ran right under
#    both launchers the script uses (the MPI's, srun; MPIEXEC and SRUN_MPI say which: mpirun
#    and pmix by default);
#  - apps/slurm/ranks_cluster.sbatch LAB65 LAB66: the job started a cluster in its allocation,
#    both labs attached to it and printed their results, and the cluster was stopped.
#
# The cluster is this run's alone: its own munged (own key and socket), slurm.conf
# (found through SLURM_CONF), free ports, and state, spool and log files, all under one
# temporary directory. Every daemon is stopped and the directory removed on exit. Needs root
# and slurm-wlm and munge installed (run.sh installs them); exits 77 (skipped) without them.
set -euo pipefail
script=$(realpath "$1")
shift
progs=()
for p in "$@"; do progs+=("$(realpath "$p")"); done

for c in munged slurmctld slurmd sbatch sinfo scancel ss; do
  command -v "$c" >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (the cluster runs as root)"; exit 77; }

sbatch_pid=
tmp=$(mktemp -d /tmp/ranks-slurm.XXXXXX)
chmod 755 "$tmp"
export SLURM_CONF=$tmp/slurm.conf

show_logs() {
  local f
  for f in "$tmp"/*.log; do
    [ -s "$f" ] && { echo "== $f (last lines)"; tail -n 20 "$f"; }
  done
}

# Live processes of this cluster: the daemons and everything under them run in $tmp.
cluster_pids() {
  local p stat
  for p in /proc/[0-9]*; do
    [[ $p/cwd -ef $tmp ]] || continue
    { read -r stat <"$p/stat"; } 2>/dev/null || continue
    stat=${stat##*) }
    [ "${stat%% *}" = Z ] || echo "${p#/proc/}"
  done
  return 0
}

cleanup() {
  local rc=$? f pids i
  trap - EXIT INT TERM
  [ "$rc" -eq 0 ] || show_logs
  [ -n "$sbatch_pid" ] && kill -TERM "$sbatch_pid" 2>/dev/null || true
  timeout 5 scancel --quiet --full --user=root 2>/dev/null || true
  for f in slurmd slurmctld munged; do
    [ -s "$tmp/$f.pid" ] && kill -TERM "$(cat "$tmp/$f.pid")" 2>/dev/null || true
  done
  pids=$(cluster_pids)                # job processes left over, slurmstepd
  [ -n "$pids" ] && kill -TERM $pids 2>/dev/null || true
  for i in $(seq 30); do              # up to 3 s for a clean stop, then by force
    pids=$(cluster_pids)
    [ -z "$pids" ] && break
    sleep 0.1
  done
  pids=$(cluster_pids)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {                         # the first port from $1 on that nothing listens on
  local p
  for ((p = $1; p < $1 + 500; p++)); do
    [ -z "$(ss -Htan "sport = :$p")" ] && { echo "$p"; return 0; }
  done
  return 1
}
ctld_port=$(free_port 16817)
slurmd_port=$(free_port $((ctld_port + 1)))
node=$(hostname -s)

# munge: a private key and socket.
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge.key"
(cd "$tmp" && munged --force --socket="$tmp/munge.sock" --key-file="$tmp/munge.key" \
   --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed")

mkdir -p "$tmp/state" "$tmp/spool"
cat >"$SLURM_CONF" <<CONF
ClusterName=rankstest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
# sbatch --wait polls every 2 s while that is under half of MinJobAge, else every 8 s and more.
MinJobAge=5
SchedulerParameters=batch_sched_delay=0
TmpFS=$tmp
# More CPUs than the machine has, so a 5-task job fits on a 2-core machine.
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

(cd "$tmp" && slurmctld -i)
(cd "$tmp" && slurmd)

for i in $(seq 150); do               # up to 15 s for the node to come up idle
  state=$(timeout 5 sinfo -h -n "$node" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.1
done
echo "node $node: ${state:-no answer}"
[ "$state" = idle ] || { echo "FAIL: the node did not become idle"; exit 1; }
# Which MPI plugins this Slurm offers, for the log (the job's own launches are checked below).
if ! plugins=$(timeout 10 srun --mpi=list 2>&1); then
  plugins="(srun --mpi=list failed: $plugins)"
fi
printf 'srun --mpi=list:\n%s\n' "$plugins"

echo "== sbatch --wait $script ${progs[*]}"
rc=0
# The job finds the ranks command beside the programs' build.
export RANKS=${RANKS:-$(dirname "${progs[0]}")/../apps/ranks/ranks}
timeout -k 5 90 sbatch --wait --chdir="$tmp" --output="$tmp/job.out" "$script" "${progs[@]}" &
sbatch_pid=$!
wait "$sbatch_pid" || rc=$?
sbatch_pid=
echo "== job output"
cat "$tmp/job.out" 2>/dev/null || true
echo "sbatch exit status: $rc"

fail() { echo "FAIL: $*"; exit 1; }
[ "$rc" -eq 0 ] || fail "the job failed"
out=$(cat "$tmp/job.out")
if [ "$(basename "$script")" = ranks_cluster.sbatch ]; then
  grep -Eq "^cluster 'job[0-9]+' started in .*: 4 engines" <<<"$out" || fail "no cluster started"
  grep -q "^gather('x'): \[0, 1, 2, 3, 4, 5, 6, 7\]$" <<<"$out" || fail "lab 6.5 did not run attached"
  grep -q "^apply(work, 7): 49$" <<<"$out" || fail "lab 6.6 did not run attached"
  grep -q "^tasks run: [1-9]" <<<"$out" || fail "the cluster ran no task"
  grep -q "^cluster 'job[0-9]*' stopped" <<<"$out" || fail "the cluster was not stopped"
  [ -z "$(pgrep -f "cluster serve --profile-dir $tmp" || true)" ] || fail "cluster processes left"
else
  for launcher in "$(basename "${MPIEXEC:-mpirun}")" "srun --mpi=${SRUN_MPI:-pmix}"; do
    part=$(awk -v h="== $launcher" '$0 == h {on = 1; next} /^== / {on = 0} on' <<<"$out")
    [ "$(grep -c '^engine ' <<<"$part")" -eq 4 ] || fail "$launcher: expected 4 engines"
    grep -q '^sum=332833500$' <<<"$part" || fail "$launcher: wrong or missing map result"
  done
fi
echo "PASS"
