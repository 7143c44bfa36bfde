#!/usr/bin/env bash
# Runs the whole comparison in one go and prints one table:
#   ranks (dynamic, static), serial, threads, OpenMP, hand-written MPI  (build/apps/ranks_bench)
#   the same across three hosts emulated with network namespaces    (apps/bench/multihost.sh)
#   multiprocessing.Pool, mpi4py.futures, ipyparallel, Dask distributed (apps/bench/peers)
#
#   apps/bench/run_all.sh [--workers W] [--repeat R] [--out DIR] [--quick]
# Writes DIR/results.jsonl (one JSON object per measurement) and DIR/plots/*.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
workers=2 repeat=5 out=bench-results quick=()
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=(--quick); shift ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
[ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
py=/usr/bin/python3
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"

mkdir -p "$out/plots"
echo "== ranks_bench (mpirun -np $((workers + 1)))" >&2
timeout 900 mpirun -np $((workers + 1)) --oversubscribe build/apps/ranks_bench \
  --repeat "$repeat" --json "$out/ranks.jsonl" --plot "$out/plots" "${quick[@]}" >&2
cat "$out/ranks.jsonl" >>"$results"
echo "== start-up: ranks spawning its engines (no mpirun), and a bare MPI send and receive" >&2
timeout 300 build/apps/ranks_bench --workload startup --workers "$workers" \
  --json "$out/spawn.jsonl" >&2
cat "$out/spawn.jsonl" >>"$results"
timeout 120 mpirun -np $((workers + 1)) --oversubscribe build/apps/bare_mpi >>"$results"

echo "== across three emulated hosts (network namespaces, TCP): ranks and hand-written MPI" >&2
rc=0
apps/bench/multihost.sh "$out/multihost.jsonl" --repeat "$repeat" "${quick[@]}" \
  2>"$out/multihost.log" || rc=$?
if [ "$rc" -eq 0 ]; then
  cat "$out/multihost.jsonl" >>"$results"
else
  echo "   not run (exit $rc: 77 is no root or no network namespaces); see $out/multihost.log" >&2
fi

echo "== a started cluster: ranks cluster start to engines waiting, then a program attached to it" >&2
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
  echo "== $name" >&2
  if ! (cd "$peers" && timeout "$seconds" "$@" "${peer_options[@]}") \
      >>"$results" 2>>"$out/$name.log"; then
    echo "   $name failed or is not installed; see $out/$name.log" >&2
  fi
}
run_peer multiprocessing 900 $py multiprocessing_peer.py
run_peer mpi4py 900 mpirun -np $((workers + 1)) --oversubscribe $py -m mpi4py.futures mpi4py_peer.py
run_peer ipyparallel 900 $py ipyparallel_peer.py
run_peer dask 900 $py dask_peer.py

# Many engines on 2 cores: tasks that sleep, ranks and a thread pool of as many threads, then
# the peers with as many workers.
counts=(8 16 32 64)
[ ${#quick[@]} -eq 0 ] || counts=(8)
for n in "${counts[@]}"; do
  echo "== many engines: $n" >&2
  timeout 600 mpirun -np $((n + 1)) --oversubscribe build/apps/ranks_bench \
    --workload many,footprint,idle,startup --backend threads,dynamic --repeat "$repeat" \
    --json "$out/many-$n.jsonl" "${quick[@]}" >&2
  cat "$out/many-$n.jsonl" >>"$results"
  timeout 120 mpirun -np $((n + 1)) --oversubscribe build/apps/bare_mpi >>"$results"
  peer_options=(--workers "$n" --repeat "$repeat" --workload many "${quick[@]}")
  run_peer "multiprocessing-many-$n" 300 $py multiprocessing_peer.py
  run_peer "mpi4py-many-$n" 300 mpirun -np $((n + 1)) --oversubscribe $py -m mpi4py.futures \
    mpi4py_peer.py
  run_peer "dask-many-$n" 300 $py dask_peer.py
done

$py apps/bench/compare.py "$results" --plot "$out/plots"
