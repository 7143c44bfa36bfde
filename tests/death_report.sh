#!/usr/bin/env bash
# death_report.sh RUNS COMMAND...: runs COMMAND (a job whose engine is SIGKILLed, without
# recovery) RUNS times in a row. Each time the job must fail; ranks' report of the lost engine
# (its id, MPI rank and pid) must be there, ahead of mpirun's own report of the dead process;
# and the job must not end by MPI_Abort, whose report would blame the controller. (mpirun learns
# of a SIGKILL as the controller does: its "Primary job terminated normally, but 1 process
# returned a non-zero exit code" can come first.)
set -uo pipefail
runs=$1
shift
for i in $(seq "$runs"); do
  out=$("$@" 2>&1)
  rc=$?
  [ "$rc" -ne 0 ] || { printf '%s\n' "$out"; echo "FAIL: run $i exited 0"; exit 1; }
  report=$(grep -n -m1 -E "^ranks: engine [0-9]+ \(MPI rank [0-9]+, pid [0-9]+ on [^)]+\) died.*enable-recovery" <<<"$out" | cut -d: -f1)
  noticed=$(grep -n -m1 "noticed that process rank" <<<"$out" | cut -d: -f1)
  if [ -z "$report" ] || { [ -n "$noticed" ] && [ "$noticed" -lt "$report" ]; } ||
    grep -q "MPI_ABORT was invoked" <<<"$out"; then
    printf '%s\n' "$out"
    echo "FAIL: run $i: ranks' report of the lost engine is missing, comes after mpirun's, or the job ended by MPI_Abort"
    exit 1
  fi
done
echo "PASS: $runs runs, the report ahead of mpirun's each time"
