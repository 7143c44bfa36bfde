#!/usr/bin/env bash
# survive.sh SURVIVE MPIRUN: engines lost across three hosts emulated on this machine (hosts.sh),
# under mpirun --enable-recovery from host 1. Engines on hosts 2 and 3 die halfway through maps
# (their deaths reach the controller over their life lines, TCP between the namespaces); the
# maps are whole and right; then a direct call to the engine on host 3, killed, fails with
# EngineLost naming it.
set -euo pipefail
prog=$(realpath "$1")
mpirun=${2:-mpirun}
source "$(dirname "$0")/hosts.sh"
fail() { echo "FAIL: $*"; exit 1; }
# shellcheck disable=SC2206
run=(timeout -k 5 90 "$mpirun" --hostfile "$tmp/hostfile" -np 4 --enable-recovery $MPIRUN_ARGS)

echo "== map, engines on hosts 2 and 3 killed"
out=$(on_host 1 env RANKS_TEST_REMOTE_KILL=1 "${run[@]}" "$prog" map 2>&1) || true
printf '%s\n' "$out"
grep -q "map: every check held" <<<"$out" || fail "map across hosts"
grep -Eq "on $id-h[23]\) died of signal 9" <<<"$out" || fail "no engine of host 2 or 3 died"

echo "== a direct call to a killed engine on host 3"
out=$(on_host 1 "${run[@]}" "$prog" direct 2>&1) || true
printf '%s\n' "$out"
grep -q "direct: every check held" <<<"$out" || fail "EngineLost across hosts"
grep -Eq "EngineLost .* on $id-h3\)" <<<"$out" || fail "the lost engine was not host 3's"
echo "PASS"
