#!/usr/bin/env bash
# multihost.sh OUT.jsonl [--repeat R] [--quick] [--bench PATH]: the benchmark across three hosts emulated on this
# machine (tests/multihost/hosts.sh: network namespaces, TCP over a bridge between them). The
# controller runs on host 1 and one engine on each of hosts 2 and 3; ranks and hand-written MPI
# measure latency, a 64 MiB round trip and tiny tasks over the same TCP; then sync_bench (beside
# PATH) the locks, values, barriers and arrays that the controller serves to those engines,
# against MPI one-sided and a gather over the same TCP. The rows' backends get "@3hosts"; it
# fails if one is missing. Exits 77 where network namespaces cannot be made (not root, no
# iproute2). PATH: the ranks_bench to run (default build/apps/ranks_bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(realpath -m "$1")
shift
repeat=5 quick=() bench=$root/build/apps/ranks_bench
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --quick) quick=(--quick); shift ;;
    --bench) bench=$(realpath "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
source "$root/tests/multihost/hosts.sh"
# One slot a host: rank 0 (the controller) on host 1, engines on hosts 2 and 3, so every message
# between the controller and an engine crosses the emulated network.
printf '%s slots=1\n' "$subnet.1" "$subnet.2" "$subnet.3" >"$tmp/hostfile"
# shellcheck disable=SC2086
on_host 1 timeout -k 5 600 mpirun --hostfile "$tmp/hostfile" -np 3 $MPIRUN_ARGS \
  -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
  "$bench" --workload latency,bandwidth,tiny \
  --backend dynamic,static,mpi-raw --repeat "$repeat" --json "$tmp/rows.jsonl" "${quick[@]}" >&2
# MPI one-sided between hosts: Open MPI 4.1's osc/rdma over TCP dies in MPI_Fetch_and_op
# (SIGSEGV) here; osc/pt2pt (active messages) works.
# shellcheck disable=SC2086
on_host 1 timeout -k 5 600 mpirun --hostfile "$tmp/hostfile" -np 3 $MPIRUN_ARGS --mca osc pt2pt \
  -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
  "$(dirname "$bench")/sync_bench" --repeat "$repeat" --json "$tmp/sync.jsonl" "${quick[@]}" >&2
cat "$tmp/sync.jsonl" >>"$tmp/rows.jsonl"
/usr/bin/python3 - "$tmp/rows.jsonl" "$out" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
for row in rows:
    row["backend"] += "@3hosts"
with open(sys.argv[2], "w") as f:
    f.writelines(json.dumps(row) + "\n" for row in rows)
have = {(r["workload"], r["variant"], r["backend"]) for r in rows}
want = [("latency", "apply", "dynamic"), ("latency", "ping-pong", "mpi-raw"),
        ("bandwidth", "apply", "dynamic"), ("bandwidth", "push-pull", "static"),
        ("bandwidth", "push-pull-into", "static"), ("bandwidth", "send-recv", "mpi-raw"),
        ("tiny", "chunksize-1", "dynamic"), ("tiny", "chunksize-1", "mpi-raw"),
        ("sync", "lock-value-increment", "ranks"), ("sync", "value-fetch-add", "ranks"),
        ("sync", "value-fetch-add", "mpi-raw"), ("sync", "barrier-wait", "ranks"),
        ("sync", "array-128MiB", "ranks"), ("sync", "array-128MiB", "mpi-raw")]
missing = [w for w in want if (w[0], w[1], w[2] + "@3hosts") not in have]
if missing:
    sys.exit(f"multihost.sh: no row for {missing}")
print(f"{len(rows)} rows across 3 hosts in {sys.argv[2]}")
PY
