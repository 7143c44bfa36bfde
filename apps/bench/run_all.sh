#!/usr/bin/env bash
# Runs the whole comparison in one go and prints one table:
#   ranks (dynamic, static), serial, threads, OpenMP, hand-written MPI  (build/apps/ranks_bench)
#   the same across three hosts emulated with network namespaces    (apps/bench/multihost.sh)
#   multiprocessing.Pool, mpi4py.futures, ipyparallel, Dask distributed (apps/bench/peers)
#
#   apps/bench/run_all.sh [--workers W] [--repeat R] [--out DIR] [--quick] [--mpich]
# Writes DIR/results.jsonl (one JSON object per measurement) and DIR/plots/*.png.
#
# --mpich: instead, ranks (dynamic, static) against hand-written MPI on latency, tiny tasks and
# the 64 MiB round trip, under Open MPI (build/apps/ranks_bench, mpirun) and then under MPICH
# (build-mpich/apps/ranks_bench, mpiexec.mpich), in one run and one table, an MPI a column.
set -euo pipefail
cd "$(dirname "$0")/../.."
workers=2 repeat=5 out=bench-results quick=() mpich=0
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=(--quick); shift ;;
    --mpich) mpich=1; shift ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
[ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
py=/usr/bin/python3
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"

# Each step says when it began (seconds since the start), so a slow one shows.
step() { echo "== [${SECONDS}s] $*" >&2; }

if [ "$mpich" = 1 ]; then
  mpiexec_mpich=$(command -v mpiexec.mpich || command -v mpiexec)
  for mpi in openmpi mpich; do
    if [ "$mpi" = openmpi ]; then
      launch=(mpirun -np $((workers + 1)) --oversubscribe) bench=build/apps/ranks_bench
    else
      launch=("$mpiexec_mpich" -n $((workers + 1))) bench=build-mpich/apps/ranks_bench
    fi
    step "ranks_bench under $mpi (${launch[*]})"
    timeout 900 "${launch[@]}" "$bench" --workload latency,tiny,bandwidth \
      --backend dynamic,static,mpi-raw --repeat "$repeat" --json "$out/$mpi.jsonl" \
      "${quick[@]}" >&2
    $py -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line); r["mpi"] = sys.argv[2]; print(json.dumps(r))' \
      "$out/$mpi.jsonl" "$mpi" >>"$results"
  done
  $py - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault((r["workload"], r["variant"], r["backend"], r["unit"]), {})[r["mpi"]] = r
print(f'{"workload":10} {"variant":15} {"backend":8} {"unit":8} {"Open MPI":>10} {"MPICH":>10}')
for (w, v, b, u), m in by.items():
    cell = lambda k: f'{m[k]["median"]:10.4g}' if k in m else f'{"-":>10}'
    print(f"{w:10} {v:15} {b:8} {u:8} {cell('openmpi')} {cell('mpich')}")
PY
  step "done"
  exit 0
fi

mkdir -p "$out/plots"
step "ranks_bench (mpirun -np $((workers + 1)))"
timeout 900 mpirun -np $((workers + 1)) --oversubscribe build/apps/ranks_bench \
  --repeat "$repeat" --json "$out/ranks.jsonl" --plot "$out/plots" "${quick[@]}" >&2
cat "$out/ranks.jsonl" >>"$results"
step "start-up: ranks spawning its engines (no mpirun), and a bare MPI send and receive"
timeout 300 build/apps/ranks_bench --workload startup --workers "$workers" \
  --json "$out/spawn.jsonl" >&2
cat "$out/spawn.jsonl" >>"$results"
timeout 120 mpirun -np $((workers + 1)) --oversubscribe build/apps/bare_mpi >>"$results"

step "across three emulated hosts (network namespaces, TCP): ranks and hand-written MPI"
rc=0
apps/bench/multihost.sh "$out/multihost.jsonl" --repeat "$repeat" "${quick[@]}" \
  2>"$out/multihost.log" || rc=$?
if [ "$rc" -eq 0 ]; then
  cat "$out/multihost.jsonl" >>"$results"
else
  echo "   not run (exit $rc: 77 is no root or no network namespaces); see $out/multihost.log" >&2
fi

step "a started cluster: ranks cluster start to engines waiting, then a program attached to it"
ranks=build/apps/ranks/ranks
RANKS_PROFILE_DIR=$(mktemp -d)
export RANKS_PROFILE_DIR
trap '"$ranks" cluster stop --profile bench >/dev/null 2>&1 || true; rm -rf "$RANKS_PROFILE_DIR"' EXIT
for n in "$workers" 4; do
  samples=()
  for _ in $(seq "$repeat"); do
    t0=$(date +%s.%N)
    "$ranks" cluster start -n "$n" --profile bench >/dev/null
    samples+=("$(echo "$(date +%s.%N) - $t0" | bc)")
    "$ranks" cluster stop --profile bench >/dev/null
  done
  $py - "$n" "${samples[@]}" >>"$results" <<'PY'
import json, statistics, sys
n, s = int(sys.argv[1]), [float(x) for x in sys.argv[2:]]
print(json.dumps({"workload": "cluster-start", "variant": f"-n {n}", "backend": "ranks",
                  "workers": n, "median": statistics.median(s), "min": min(s), "max": max(s),
                  "unit": "s", "repeat": len(s)}))
PY
done
"$ranks" cluster start -n "$workers" --profile bench >/dev/null
RANKS_CLUSTER=bench timeout 900 build/apps/ranks_bench --workload tiny,latency,startup \
  --repeat "$repeat" --json "$out/attached.jsonl" "${quick[@]}" >&2
cat "$out/attached.jsonl" >>"$results"
"$ranks" cluster stop --profile bench >/dev/null

peers=apps/bench/peers
peer_options=(--workers "$workers" --repeat "$repeat" "${quick[@]}")
run_peer() {  # name seconds command...: a peer with peer_options, its rows into the results
  local name=$1 seconds=$2
  shift 2
  step "$name"
  if ! (cd "$peers" && timeout "$seconds" "$@" "${peer_options[@]}") \
      >>"$results" 2>>"$out/$name.log"; then
    echo "   $name failed or is not installed; see $out/$name.log" >&2
  fi
}
run_peer multiprocessing 900 $py multiprocessing_peer.py
run_peer mpi4py 900 mpirun -np $((workers + 1)) --oversubscribe $py -m mpi4py.futures mpi4py_peer.py
run_peer ipyparallel 900 $py ipyparallel_peer.py
run_peer dask 900 $py dask_peer.py

# Between processes: ranks's Queue, Pipe and Manager with four engines, multiprocessing's with
# four processes, and raw MPI between the same two engines; the goals as ratios.
step "between processes: objects_bench (mpirun -np 5) and multiprocessing's Queue, Pipe, Manager"
timeout 900 mpirun -np 5 --oversubscribe build/apps/objects_bench --repeat "$repeat" \
  --json "$out/objects.jsonl" "${quick[@]}" >&2
cat "$out/objects.jsonl" >>"$results"
peer_options=(--repeat "$repeat" "${quick[@]}")
run_peer multiprocessing-objects 900 $py multiprocessing_objects.py
# Locks, values, barriers and arrays in shared memory: ranks's and multiprocessing's, four each.
step "between processes: sync_bench (mpirun -np 5) and multiprocessing's Lock, Value, Barrier"
timeout 900 mpirun -np 5 --oversubscribe build/apps/sync_bench --repeat "$repeat" \
  --json "$out/sync.jsonl" "${quick[@]}" >&2
cat "$out/sync.jsonl" >>"$results"
run_peer multiprocessing-sync 900 $py multiprocessing_sync.py
peer_options=(--workers "$workers" --repeat "$repeat" "${quick[@]}")
# What seeing a run costs: tiny tasks as they are, with a timeline, with the dashboard polled.
step "seeing a run: tiny tasks with RANKS_TIMELINE, and with RANKS_DASHBOARD polled"
observe_rounds=7
[ ${#quick[@]} -eq 0 ] || observe_rounds=1
apps/bench/observe_overhead.sh "$observe_rounds" "$out/observe.jsonl" | tee "$out/observe.txt" >&2

# Many engines on 2 cores: tasks that sleep, ranks and a thread pool of as many threads, then
# the peers with as many workers; and what an engine costs, and a reduce among all of them.
# Three runs each (the medians of runs of 0.5 s barely move), so that the whole benchmark stays
# within a quarter of an hour on two cores.
counts=(8 16 32 64)
[ ${#quick[@]} -eq 0 ] || counts=(8)
sweep_repeat=$((repeat < 3 ? repeat : 3))
for n in "${counts[@]}"; do
  step "many engines: $n"
  timeout 600 mpirun -np $((n + 1)) --oversubscribe build/apps/ranks_bench \
    --workload many,footprint,idle,startup,reduce --backend threads,dynamic,static \
    --repeat "$sweep_repeat" \
    --json "$out/many-$n.jsonl" "${quick[@]}" >&2
  cat "$out/many-$n.jsonl" >>"$results"
  timeout 120 mpirun -np $((n + 1)) --oversubscribe build/apps/bare_mpi >>"$results"
  peer_options=(--workers "$n" --repeat "$sweep_repeat" --workload many "${quick[@]}")
  run_peer "multiprocessing-many-$n" 300 $py multiprocessing_peer.py
  run_peer "mpi4py-many-$n" 300 mpirun -np $((n + 1)) --oversubscribe $py -m mpi4py.futures \
    mpi4py_peer.py
  run_peer "dask-many-$n" 300 $py dask_peer.py
done

$py apps/bench/compare.py "$results" --plot "$out/plots"
echo
$py apps/bench/objects_goals.py "$results"
echo
cat "$out/observe.txt"
step "done"
