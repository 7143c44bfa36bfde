#!/usr/bin/env bash
# trace.sh OUT OBSERVED RANKS_COMMAND LAUNCH...: runs the program OBSERVED (tests/programs/
# observed.cpp) as LAUNCH says (mpirun -np N, or nothing: plain) with RANKS_TIMELINE, checks the
# timeline against the run (check_trace.py), then draws it with `ranks timeline`. The trace and
# the PNG are kept in OUT.
set -euo pipefail
out=$1 program=$2 ranks=$3
shift 3
here=$(dirname "$0")
rm -rf "$out" && mkdir -p "$out"
tasks=60
RANKS_TIMELINE="$out/run.json" "$@" "$program" "$tasks" "$out/results.txt" --sleep-ms 2
python3 "$here/check_trace.py" "$out/run.json" "$out/results.txt" "$tasks"
"$ranks" timeline "$out/run.json" -o "$out/run.png"
[ "$(head -c 4 "$out/run.png" | od -An -c | tr -d ' ')" = "211PNG" ] || { echo "trace.sh: no PNG"; exit 1; }
echo "trace.sh: every check held"
