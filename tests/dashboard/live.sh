#!/usr/bin/env bash
# live.sh OUT OBSERVED ENGINES LAUNCH...: runs OBSERVED (tests/programs/observed.cpp) as LAUNCH
# says with RANKS_DASHBOARD=0 (any free port), and once its work is done checks its dashboard:
# the JSON and the server (check_live.py), then, with BROWSER=1, the page in headless Chromium
# (browser.sh), keeping its screenshot in OUT. ENGINES: how many the JSON must list (0: any).
set -euo pipefail
out=$1 program=$2 engines=$3
shift 3
here=$(dirname "$0")
rm -rf "$out" && mkdir -p "$out"
tasks=40
RANKS_DASHBOARD=0 "$@" "$program" "$tasks" "$out/results.txt" --wait "$out/done" \
  > "$out/stdout" 2> "$out/stderr" &
pid=$!
finish() { touch "$out/done"; }
trap finish EXIT
for _ in $(seq 600); do
  grep -q "tasks ran" "$out/stdout" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
grep -q "tasks ran" "$out/stdout" || { cat "$out/stdout" "$out/stderr"; echo "live.sh: the program did not get to its end"; exit 1; }
url=$(sed -n 's/.*the dashboard is at \(http:[^ ]*\).*/\1/p' "$out/stderr" | head -1)
[ -n "$url" ] || { cat "$out/stderr"; echo "live.sh: no dashboard address on stderr"; exit 1; }
echo "live.sh: the dashboard is at $url"
python3 "$here/check_live.py" "$url" "$tasks" "$engines"
if [ "${BROWSER:-0}" = 1 ]; then
  "$here/browser.sh" "$url" "$out/dashboard.png"
fi
touch "$out/done"
wait $pid
echo "live.sh: every check held"
