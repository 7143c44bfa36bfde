#!/usr/bin/env bash
# survive.sh SURVIVE MPIRUN: engines lost across three hosts emulated on this machine (hosts.sh),
# under mpirun --enable-recovery from host 1. Engines on hosts 2 and 3 die halfway through maps
# (their deaths reach the controller over their life lines, TCP between the namespaces); the
# maps are whole and right; a direct call to the engine on host 3, killed, fails with
# EngineLost naming it. Then a batch job loses one engine at several rank counts and places:
# alone on its host, on the controller's host. Every launch must exit 0 and end within 10 s of
# the program's last line: a job that did its work and then never ends fails.
# An engine killed on another host than mpirun's that shares that host with another process of
# the job: Open MPI 4.1.4's daemon there never counts the killed process as ended, so it never
# reports the others' ends either, and mpirun would wait for ever; ranks ends it 5 s after the
# program (src/base/launcher.hpp), and mpirun then exits 1.
set -euo pipefail
prog=$(realpath "$1")
mpirun=${2:-mpirun}
source "$(dirname "$0")/hosts.sh"
fail() { echo "FAIL: $*"; exit 1; }
# Nothing of the job is left on any host (mpirun, daemons, ranks) within 5 s.
hosts_empty() {
  local i left
  for _ in $(seq 50); do
    left=$(for i in 1 2 3; do ip netns pids "$id-h$i"; done)
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  ps -o pid,args -p "$(tr '\n' ',' <<<"$left" | sed 's/,$//')" || true
  fail "processes left on the hosts after the job"
}
write_hostfile "$tmp/hostfile2" 2 2 2
# shellcheck disable=SC2206
recover=(--enable-recovery $MPIRUN_ARGS)

echo "== map, engines on hosts 2 and 3 killed (-np 4)"
timed_launch 10 0 on_host 1 env RANKS_TEST_REMOTE_KILL=1 \
  timeout -k 5 60 "$mpirun" --hostfile "$tmp/hostfile" -np 4 "${recover[@]}" "$prog" map ||
  fail "map across hosts: mpirun"
out=$(cat "$tmp/launch.out")
grep -q "map: every check held" <<<"$out" || fail "map across hosts"
grep -Eq "on $id-h[23]\) died of signal 9" <<<"$out" || fail "no engine of host 2 or 3 died"

echo "== a direct call to a killed engine on host 3 (-np 4)"
timed_launch 10 0 on_host 1 \
  timeout -k 5 60 "$mpirun" --hostfile "$tmp/hostfile" -np 4 "${recover[@]}" "$prog" direct ||
  fail "direct: mpirun"
out=$(cat "$tmp/launch.out")
grep -q "direct: every check held" <<<"$out" || fail "EngineLost across hosts"
grep -Eq "EngineLost .* on $id-h3\)" <<<"$out" || fail "the lost engine was not host 3's"

# NP:HOST: -np NP --map-by node over 2 slots a host (rank 0 and engine NP-1... on host 1), the
# engine on host HOST killed at item 40 of 200.
#   3:3  each engine alone on its host, host 3's killed
#   4:3  host 3's engine, alone there, killed; host 1 holds the controller and an engine
#   4:1  the engine beside the controller killed
#   5:3  the engine alone on host 3 killed; host 2 holds two engines that go on and end
#   5:1  the engine beside the controller killed; host 2 holds two engines
for c in 3:3 4:3 4:1 5:3 5:1; do
  np=${c%:*}
  victim=$id-h${c#*:}
  echo "== a batch job loses the engine on $victim (-np $np --map-by node)"
  timed_launch 10 0 on_host 1 env RANKS_TEST_KILL_HOST="$victim" \
    timeout -k 5 60 "$mpirun" --hostfile "$tmp/hostfile2" -np "$np" --map-by node \
    "${recover[@]}" "$prog" lose || fail "lose at -np $np on $victim: mpirun"
  out=$(cat "$tmp/launch.out")
  grep -q "lose: every check held" <<<"$out" || fail "lose at -np $np on $victim"
  grep -Eq "on $victim\) died of signal 9" <<<"$out" || fail "the lost engine was not $victim's"
  hosts_empty
done

echo "== a batch job loses an engine on host 2, which holds another (-np 5 --map-by node)"
victim=$id-h2
# The watcher waits 5 s, then mpirun takes 2 s to end (under a loaded CI machine, more).
timed_launch 20 1 on_host 1 env RANKS_TEST_KILL_HOST="$victim" \
  timeout -k 5 60 "$mpirun" --hostfile "$tmp/hostfile2" -np 5 --map-by node \
  "${recover[@]}" "$prog" lose || fail "lose at -np 5 on $victim: mpirun"
out=$(cat "$tmp/launch.out")
grep -q "lose: every check held" <<<"$out" || fail "lose at -np 5 on $victim"
grep -Eq "on $victim\) died of signal 9" <<<"$out" || fail "the lost engine was not $victim's"
grep -q "ranks: mpirun (pid [0-9]*) still runs 5000 ms after the program ended" <<<"$out" ||
  fail "mpirun was not ended"
hosts_empty
echo "PASS"
