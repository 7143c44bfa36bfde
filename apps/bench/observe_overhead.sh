#!/usr/bin/env bash
# What seeing a run costs: tiny tasks of chunksize 1 on 4 engines (ranks_bench's "tiny"
# chunksize-1 row, mpirun -np 5) as they are, recording a timeline (RANKS_TIMELINE), and serving
# the dashboard (RANKS_DASHBOARD) while a client polls it as the page does (its page and its
# JSON, every second); the three launches take turns, ROUNDS times, and each row is the median.
#
#   apps/bench/observe_overhead.sh [ROUNDS] [OUT.jsonl]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-7} out=${2:-/dev/null}
[ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mpi_yield_when_idle=1 RANKS_CLUSTER=none
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $poller 2>/dev/null || true' EXIT
poller=
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The page: its JSON every second, as long as the dashboard answers (it comes and goes).
python3 - "$port" >/dev/null 2>&1 <<'PY' &
import sys, time, urllib.request
base = "http://127.0.0.1:%s/" % sys.argv[1]
while True:
    for path in ("api/status",):
        try:
            urllib.request.urlopen(base + path, timeout=2).read()
        except Exception:
            pass
    time.sleep(1)
PY
poller=$!
run() {  # run MODE: one launch; prints its chunksize-1 tasks/s
  local env=()
  case $1 in
    timeline) env=(RANKS_TIMELINE="$work/run.json") ;;
    dashboard) env=(RANKS_DASHBOARD="$port") ;;
  esac
  env "${env[@]}" timeout 300 mpirun -np 5 --oversubscribe build/apps/ranks_bench --workload tiny \
    --backend dynamic --repeat 5 --json "$work/r.jsonl" >/dev/null 2>&1
  python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["variant"] == "chunksize-1": print(r["median"])' "$work/r.jsonl"
}
declare -A got
for ((i = 0; i < rounds; i++)); do
  for mode in off timeline dashboard; do got[$mode]+="$(run $mode) "; done
done
python3 - "$out" "${got[off]}" "${got[timeline]}" "${got[dashboard]}" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], dict(zip(("off", "timeline", "dashboard"), sys.argv[2:]))
med = {m: statistics.median(map(float, v.split())) for m, v in runs.items()}
print("tiny tasks, chunksize 1, 4 engines: median of %d launches each (tasks/s)" % len(runs["off"].split()))
with open(out, "a") as f:
    for m in ("off", "timeline", "dashboard"):
        vals = sorted(map(float, runs[m].split()))
        ratio = med[m] / med["off"]
        print("  %-10s %10.0f   %+.1f %%   (min %.0f, max %.0f)" % (m, med[m], (ratio - 1) * 100, vals[0], vals[-1]))
        f.write(json.dumps({"workload": "tiny", "variant": "chunksize-1", "backend": "dynamic",
                            "observed": m, "median": med[m], "ratio_to_off": ratio,
                            "runs": vals, "unit": "tasks/s"}) + "\n")
PY
