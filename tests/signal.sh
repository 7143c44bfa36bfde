#!/usr/bin/env bash
# signal.sh SIGNAL PATTERN COMMAND...: starts COMMAND (mpirun ...), sends SIGNAL to it after a
# second and a half, and passes if it is gone within 10 s with a non-zero status and no process
# matching PATTERN (the ranks) is left. SIGNAL_STATUS=any: any exit status of COMMAND passes.
sig=$1 pattern=$2
shift 2
"$@" &
pid=$!
sleep 1.5
start=$(date +%s%N)
kill -s "$sig" "$pid"
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: mpirun still runs 10 s after SIG$sig"
  kill -9 "$pid"
  exit 1
fi
wait "$pid"
rc=$?
end=$(date +%s%N)
left=""
for _ in $(seq 50); do  # the ranks end with mpirun; give a loaded machine 5 s to reap them
  left=$(pgrep -af "$pattern" | grep -v "signal.sh" || true)
  [ -n "$left" ] || break
  sleep 0.1
done
echo "mpirun ended $(( (end - start) / 1000000 )) ms after SIG$sig with status $rc"
[ "$rc" -ne 0 ] || [ "${SIGNAL_STATUS:-}" = any ] || { echo "FAIL: exit status 0"; exit 1; }
[ -z "$left" ] || { echo "FAIL: ranks still running: $left"; exit 1; }
echo PASS
