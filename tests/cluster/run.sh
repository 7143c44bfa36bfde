#!/usr/bin/env bash
# run.sh CASE BUILD_DIR [relay]: one check of a started cluster (ranks cluster ...), in a
# profile folder of its own; whatever happens, the cluster it started is stopped and the folder
# removed. With "relay", programs reach the engines through the hub (ranks cluster start
# --relay), the path used across hosts, instead of MPI connect/accept.
set -uo pipefail
case=$1
build=$(cd "$2" && pwd)
relay=()
[ "${3:-}" = relay ] && relay=(--relay)
ranks=$build/apps/ranks/ranks
client=$build/tests/cluster_client
client2=$build/tests/cluster_client2
plain=$build/tests/cluster_client_plain
labs=$build/apps
here=$(cd "$(dirname "$0")" && pwd)
export RANKS_PROFILE_DIR
RANKS_PROFILE_DIR=$(mktemp -d /tmp/ranks-cluster-test.XXXXXX)
unset RANKS_CLUSTER
cleanup() {
  for p in "$RANKS_PROFILE_DIR"/*/; do
    [ -f "$p/cluster.json" ] && "$ranks" cluster stop --profile "$(basename "$p")" >/dev/null 2>&1
  done
  pkill -9 -f "cluster serve --profile-dir $RANKS_PROFILE_DIR" 2>/dev/null
  # This run's fake hubs and proxies (door_wire.py), left running by a case that failed: they
  # hold ctest's output pipe open until its timeout.
  pkill -9 -f "door_wire.py .*$RANKS_PROFILE_DIR" 2>/dev/null
  rm -rf "$RANKS_PROFILE_DIR"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect REGEX TEXT: TEXT matches REGEX
  grep -Eq -- "$1" <<<"$2" || fail "expected /$1/ in:
$2"
}
# The hub and engines a profile's cluster runs on this host, by their command lines (mpirun's
# holds the same words, after its own name).
cluster_processes() { pgrep -f "^$ranks cluster serve --profile-dir $RANKS_PROFILE_DIR/$1 " | wc -l; }
json_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$3"; }

case $case in
  start_status_stop)
    out=$("$ranks" cluster start "${relay[@]}" -n 3) || fail "start: $out"
    expect "cluster 'default' started in [0-9.]+ s: 3 engines waiting" "$out"
    profile=$RANKS_PROFILE_DIR/default/cluster.json
    [ "$(stat -c %a "$profile")" = 600 ] || fail "the profile is not mode 0600"
    key=$(json_field "$profile" "d['key']" "$profile")
    [ ${#key} -eq 64 ] || fail "the key is not 256 bits: $key"
    expect '"door": "127.0.0.1:[0-9]+"' "$(cat "$profile")"
    status=$("$ranks" cluster status) || fail "status: $status"
    expect "3 engines on" "$status"
    expect "attached: none" "$status"
    [ "$(cluster_processes default)" -eq 4 ] || fail "expected a hub and 3 engines"
    mpirun_pid=$(json_field "$profile" "d['pids']['mpirun']" "$profile")
    server_pid=$(json_field "$profile" "d['pids']['ompi_server']" "$profile")
    out=$("$ranks" cluster stop) || fail "stop: $out"
    expect "stopped in" "$out"
    sleep 0.2
    [ "$(cluster_processes default)" -eq 0 ] || fail "stop left cluster processes: $(pgrep -af "cluster serve")"
    for pid in $mpirun_pid $server_pid; do
      state=$(awk '{print $3}' /proc/$pid/stat 2>/dev/null || echo gone)
      [ "$state" = gone ] || [ "$state" = Z ] || fail "stop left pid $pid ($state)"
    done
    [ ! -f "$profile" ] || fail "stop left the profile"
    out=$("$ranks" cluster status 2>&1) && fail "status of a stopped cluster succeeded: $out"
    expect "no cluster 'default'" "$out"
    ;;
  errors)
    out=$("$ranks" cluster start "${relay[@]}" -n 0 2>&1) && fail "-n 0 started: $out"
    expect "at least one engine" "$out"
    out=$("$ranks" cluster start --hostfile /nonexistent/hosts 2>&1) && fail "a missing hostfile: $out"
    expect "/nonexistent/hosts" "$out"
    out=$("$ranks" cluster stop 2>&1) && fail "stop of none succeeded: $out"
    expect "no cluster 'default' to stop" "$out"
    out=$("$ranks" cluster status --profile nope 2>&1) && fail "status of none succeeded: $out"
    expect "no cluster 'nope'" "$out"
    "$ranks" cluster start "${relay[@]}" -n 1 >/dev/null || fail "start"
    out=$("$ranks" cluster start "${relay[@]}" -n 1 2>&1) && fail "a second start succeeded: $out"
    expect "runs already" "$out"
    out=$(RANKS_CLUSTER=nope "$client" map 2>&1) && fail "RANKS_CLUSTER=nope ran: $out"
    expect "no such cluster" "$out"
    # A profile others can read (it holds the key) is refused, as ssh refuses such a key.
    profile=$RANKS_PROFILE_DIR/default/cluster.json
    chmod 644 "$profile"
    exposed="the profile $profile holds cluster 'default''s key but others can read it \\(mode 0644\\); ranks will not use it until it is private: chmod 600 $profile"
    out=$("$ranks" cluster status 2>&1) && fail "status used a profile others can read: $out"
    expect "$exposed" "$out"
    out=$(RANKS_CLUSTER=default "$client" map 2>&1) && fail "attached with a profile others can read: $out"
    expect "$exposed \\(RANKS_CLUSTER=none runs it with engines of its own\\)" "$out"
    out=$("$client" map 2>&1) || fail "a program that did not name the cluster: $out"
    expect "cluster=none" "$out"
    expect "not attaching to the running cluster 'default' \\($exposed\\); this program spawns its engines" "$out"
    chmod 600 "$profile"
    out=$(timeout 30 "$client" map 2>&1) || fail "attach once the profile is private again: $out"
    expect "cluster=default" "$out"
    ;;
  pool_larger_than_cluster)
    # Python's Pool(4) has four workers: on a cluster of 2, the program starts the other two for
    # itself, connected or relayed (they end with it; the cluster keeps its size). Across hosts
    # it cannot (tests/multihost/cluster.sh).
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    cluster_pids=$("$ranks" cluster status | awk '$1 ~ /^[0-9]+$/ {print $3}' | sort)
    [ "$(wc -l <<<"$cluster_pids")" -eq 2 ] || fail "expected 2 engines: $cluster_pids"
    out=$("$client" pool 4 2>&1) || fail "Pool(4) on a cluster of 2: $out"
    expect "pool=4" "$out"
    expect "sum=285" "$out"
    pids=$(sed -n 's/^pid=//p' <<<"$out" | sort)
    [ "$(sort -u <<<"$pids" | wc -l)" -eq 4 ] || fail "expected 4 distinct engines: $out"
    [ "$(comm -12 <(echo "$pids") <(echo "$cluster_pids") | wc -l)" -eq 2 ] ||
      fail "the cluster's 2 engines did not serve the pool: $pids vs $cluster_pids"
    for pid in $(comm -23 <(echo "$pids") <(echo "$cluster_pids")); do
      for _ in $(seq 50); do [ -d /proc/"$pid" ] || break; sleep 0.1; done
      [ ! -d /proc/"$pid" ] || fail "engine $pid started for the program outlived it"
    done
    out=$("$client" add 1 2>&1) || fail "add_engines on a cluster: $out"
    expect "added=1 engines=3" "$out"
    [ "$(sed -n 's/^pid=//p' <<<"$out" | sort -u | wc -l)" -eq 3 ] || fail "3 engines: $out"
    status=$("$ranks" cluster status)
    expect "2 engines on" "$status"
    [ "$(awk '$1 ~ /^[0-9]+$/ {print $3}' <<<"$status" | sort)" = "$cluster_pids" ] ||
      fail "the cluster's engines changed: $status"
    ;;
  stale_profile)
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    profile=$RANKS_PROFILE_DIR/default/cluster.json
    mpirun_pid=$(json_field "$profile" "d['pids']['mpirun']" "$profile")
    server_pid=$(json_field "$profile" "d['pids']['ompi_server']" "$profile")
    # The whole cluster dies at once, as a reboot or an OOM killer would leave it.
    kill -9 -- -"$mpirun_pid" "$server_pid" 2>/dev/null
    pkill -9 -f "cluster serve --profile-dir $RANKS_PROFILE_DIR/default " 2>/dev/null
    sleep 0.5
    out=$("$ranks" cluster list 2>&1)
    expect "default: stale" "$out"
    out=$("$ranks" cluster status 2>&1) && fail "status of a dead cluster succeeded: $out"
    expect "had died" "$out"
    [ ! -f "$profile" ] || fail "the stale profile was not cleaned"
    # A plain program no longer finds a default cluster: it spawns its engines.
    out=$("$client" map 2>&1) || fail "a plain program after a dead cluster: $out"
    expect "cluster=none" "$out"
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start after a stale profile"
    ;;
  labs_attached)
    "$ranks" cluster start "${relay[@]}" -n 4 >/dev/null || fail "start"
    for lab in lab61_process lab62_pool_map lab63_map_async lab64_apply_async lab65_direct_view \
               lab66_load_balanced lab67_dependencies lab68_reduce lab71_queue lab72_pipe \
               lab73_manager lab74_value_array lab75_lock; do
      order=cat
      [ "$lab" = lab75_lock ] && order=sort  # its processes print in any order, as Python's
      want=$(mpirun -np 5 --oversubscribe "$labs/$lab" 2>&1 | grep -v " ran [0-9]* tasks" | $order) || fail "$lab under mpirun"
      got=$("$labs/$lab" 2>&1 | grep -v " ran [0-9]* tasks" | $order) || fail "$lab attached: $got"
      [ "$want" = "$got" ] || fail "$lab attached printed
$got
instead of
$want"
      echo "$lab: same output attached as under mpirun -np 5"
    done
    status=$("$ranks" cluster status)
    expect "tasks run: [1-9]" "$status"
    ;;
  programs_share_namespace)
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    out=$("$client" push answer 41 2>&1) || fail "push: $out"
    expect "cluster=default engines=2" "$out"
    out=$("$client2" pull answer 2>&1) || fail "pull from another program: $out"
    [ "$(grep -c '^answer=41$' <<<"$out")" -eq 2 ] || fail "the next program did not find the value: $out"
    out=$("$client2" map 2>&1) || fail "work in between: $out"
    out=$("$client" pull answer 2>&1) || fail "pull again: $out"
    [ "$(grep -c '^answer=41$' <<<"$out")" -eq 2 ] || fail "the value did not stay: $out"
    ;;
  objects_of_an_ended_program)
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    out=$("$client" queue-push kept 2>&1) || fail "queue-push: $out"
    expect "pushed" "$out"
    out=$("$client2" queue-use kept 2>&1) || fail "queue-use: $out"
    expect "here: ranks: ranks::Queue::put: this handle was made by another program" "$out"
    expect "task: .*this handle was made by another program" "$out"
    # A lock of the ended program (in shared memory): the same, here and in a task.
    out=$("$client" lock-push held 2>&1) || fail "lock-push: $out"
    expect "pushed" "$out"
    out=$("$client2" lock-use held 2>&1) || fail "lock-use: $out"
    expect "here: ranks: ranks::Lock::lock: this handle was made by another program" "$out"
    expect "task: .*ranks::Lock::lock: this handle was made by another program" "$out"
    ;;
  killed_client)
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    "$client" hold 2000 >"$RANKS_PROFILE_DIR/hold.out" 2>&1 &
    holder=$!
    for _ in $(seq 100); do grep -q holding "$RANKS_PROFILE_DIR/hold.out" && break; sleep 0.05; done
    kill -9 $holder
    out=$(timeout 30 "$client" map 2>&1) || fail "the next client after a killed one: $out"
    expect "sum=285" "$out"
    log=$(cat "$RANKS_PROFILE_DIR/default/cluster.log")
    expect "pid $holder\) is gone; its engines wait again" "$log"
    expect "attached: none" "$("$ranks" cluster status)"
    ;;
  client_killed_while_starting)
    # Killed at several points of its start (before the door, while MPI starts with the engines
    # waiting in accept, while attaching): the next program is served all the same.
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    for delay in 0.02 0.1 0.2 0.3; do
      "$client" map >/dev/null 2>&1 &
      victim=$!
      sleep "$delay"
      kill -9 $victim 2>/dev/null
      wait $victim 2>/dev/null
      out=$(timeout 30 "$client" map 2>&1) || fail "the next client after one killed at $delay s: $out"
      expect "sum=285" "$out"
      # Engines left waiting for ever on the dead program were ended and replaced before it ran.
      expect "engines=2" "$out"
    done
    expect "attached: none" "$("$ranks" cluster status)"
    ;;
  second_client_waits)
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    "$client" hold 1500 >"$RANKS_PROFILE_DIR/hold.out" 2>&1 &
    holder=$!
    for _ in $(seq 100); do grep -q holding "$RANKS_PROFILE_DIR/hold.out" && break; sleep 0.05; done
    out=$(timeout 30 "$client" map 2>&1) || fail "the second client: $out"
    expect "sum=285" "$out"
    [ "$(grep -c "waiting for it to finish" <<<"$out")" -eq 1 ] || fail "the second client did not say once that it waits: $out"
    wait $holder || fail "the first client failed: $(cat "$RANKS_PROFILE_DIR/hold.out")"
    expect "held" "$(cat "$RANKS_PROFILE_DIR/hold.out")"
    ;;
  door_strangers)
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    python3 "$here/door_strangers.py" "$RANKS_PROFILE_DIR/default/cluster.json" || fail "the door let a stranger linger"
    out=$(timeout 30 "$client" map 2>&1) || fail "a real client after the strangers: $out"
    expect "sum=285" "$out"
    log=$(cat "$RANKS_PROFILE_DIR/default/cluster.log")
    expect "door: refused .*: a wrong key" "$log"
    expect "door: refused .*: no magic word" "$log"
    expect "door: refused .*: it speaks version 01 of the door, not 02" "$log"
    expect "door: refused .*: it did not greet within 1000 ms" "$log"
    expect "door: refused .*: it stopped halfway through the handshake .* within 1000 ms" "$log"
    expect "door: refused .*: it proved the key but did not say who it is within 1000 ms" "$log"
    # A real program whose profile holds another key: it finds the hub's proof wrong and says so;
    # the hub logs it leaving halfway.
    mkdir -m 700 "$RANKS_PROFILE_DIR/rekeyed"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['name']='rekeyed'
d['key']=d['key'][::-1]; print(json.dumps(d))" "$RANKS_PROFILE_DIR/default/cluster.json" \
      >"$RANKS_PROFILE_DIR/rekeyed/cluster.json"
    out=$(RANKS_CLUSTER=rekeyed timeout 30 "$client" map 2>&1) && fail "a program with another key ran: $out"
    expect "^ranks: cluster 'rekeyed': what answers at the door .* did not prove that it knows the cluster's key" "$out"
    rm -rf "$RANKS_PROFILE_DIR/rekeyed"
    sleep 0.2
    expect "door: 127.0.0.1 left halfway through the handshake, before proving the key" "$(cat "$RANKS_PROFILE_DIR/default/cluster.log")"
    ;;
  door_replay)
    # What a real program and the ranks command send at the door, recorded through a proxy
    # between them and the hub: the key is in neither direction, and each recorded program's
    # bytes, sent again on a new connection, are refused (the hub's nonce is fresh).
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    profile=$RANKS_PROFILE_DIR/default/cluster.json
    door=$(json_field - "d['door']" "$profile")
    key=$(json_field - "d['key']" "$profile")
    capture=$RANKS_PROFILE_DIR/capture
    python3 "$here/door_wire.py" proxy "$door" "$RANKS_PROFILE_DIR/proxy.port" "$capture" &
    proxy=$!
    for _ in $(seq 100); do [ -f "$RANKS_PROFILE_DIR/proxy.port" ] && break; sleep 0.05; done
    mkdir -m 700 "$RANKS_PROFILE_DIR/proxied"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['name']='proxied'
d['door']='127.0.0.1:'+open(sys.argv[2]).read(); print(json.dumps(d))" \
      "$profile" "$RANKS_PROFILE_DIR/proxy.port" >"$RANKS_PROFILE_DIR/proxied/cluster.json"
    chmod 600 "$RANKS_PROFILE_DIR/proxied/cluster.json"
    out=$(RANKS_CLUSTER=proxied timeout 30 "$client" map 2>&1) || fail "a client through the proxy: $out"
    expect "sum=285" "$out"
    out=$("$ranks" cluster status --profile proxied 2>&1) || fail "status through the proxy: $out"
    expect "2 engines on" "$out"
    kill "$proxy"
    wait "$proxy" 2>/dev/null
    rm -rf "$RANKS_PROFILE_DIR/proxied"
    python3 "$here/door_wire.py" no_key "$capture" "$key" || fail "the key crossed the wire"
    python3 "$here/door_wire.py" replay "$door" "$capture" || fail "a replay was let in"
    out=$(timeout 30 "$client" map 2>&1) || fail "a real client after the replays: $out"
    expect "sum=285" "$out"
    log=$(cat "$RANKS_PROFILE_DIR/default/cluster.log")
    expect "door: refused .*: a wrong key .*a replay of another connection" "$log"
    ;;
  door_impostor)
    # Something listens at a profile's door that does not know its key (a proxy with another
    # key, or not a door at all): a real program refuses it with the reason, exits non-zero and
    # sends it its hello alone (no code path, no work); so does the ranks command.
    for mode in wrong_key no_magic; do
      for name in impostor default; do
        capture=$RANKS_PROFILE_DIR/capture-$mode-$name
        python3 "$here/door_wire.py" fake_hub "$RANKS_PROFILE_DIR/$name" "$mode" "$capture" &
        fake=$!
        for _ in $(seq 100); do [ -f "$RANKS_PROFILE_DIR/$name/cluster.json" ] && break; sleep 0.05; done
        chosen=() way_out=""  # named by RANKS_CLUSTER, the error names the way out
        [ "$name" = impostor ] && chosen=(RANKS_CLUSTER=impostor) way_out=" \\(RANKS_CLUSTER=none runs it with engines of its own\\)"
        out=$(env "${chosen[@]}" timeout 30 "$client" map 2>&1) && fail "a program ran at a fake hub ($mode, $name): $out"
        if [ "$mode" = wrong_key ]; then
          expect "^ranks: cluster '$name': what answers at the door 127.0.0.1:[0-9]+ did not prove that it knows the cluster's key: .*; nothing was sent to it$way_out$" "$out"
        else
          expect "^ranks: cluster '$name': what answers at the door 127.0.0.1:[0-9]+ speaks no magic word .*; nothing was sent to it$way_out$" "$out"
        fi
        out=$("$ranks" cluster status --profile "$name" 2>&1) && fail "status of a fake hub: $out"
        expect "cluster '$name': what answers at the door" "$out"
        python3 "$here/door_wire.py" told_nothing "$capture" "$client" || fail "a program told a fake hub something ($mode, $name)"
        kill "$fake"
        wait "$fake" 2>/dev/null
        rm -rf "${RANKS_PROFILE_DIR:?}/$name"
      done
    done
    ;;
  engine_lost_in_map)
    # An engine SIGKILLed halfway through a map of an attached program: the map is whole and
    # right, element by element, and the cluster serves the next program with the others.
    "$ranks" cluster start "${relay[@]}" -n 4 >/dev/null || fail "start"
    small=()
    [ ${#relay[@]} -gt 0 ] && small=(RANKS_TEST_SMALL_REPLIES=1)
    out=$(env "${small[@]}" timeout 60 "$build/tests/survive" map 2>&1) ||
      fail "survive map attached: $out"
    expect "map: every check held" "$out"
    expect "engines 4 -> 3" "$out"
    out=$(timeout 30 "$client" map 2>&1) || fail "a client after an engine was lost: $out"
    expect "sum=285" "$out"
    ;;
  graph_attached)
    # The task graph and reductions (graph_test) on a started cluster's engines.
    "$ranks" cluster start "${relay[@]}" -n 3 >/dev/null || fail "start"
    out=$(timeout 100 "$build/tests/graph_test_attached" 2>&1) || fail "graph_test attached: $out"
    expect "PASSED" "$out"
    ;;
  sync_attached)
    # CPython's tests of locks, events, conditions, barriers, values and arrays, on a started
    # cluster's engines.
    "$ranks" cluster start "${relay[@]}" -n 4 >/dev/null || fail "start"
    out=$(timeout 100 "$build/tests/sync_conformance_test_attached" 2>&1) ||
      fail "sync_conformance_test attached: $out"
    expect "PASSED" "$out"
    ;;
  dashboard)
    # ranks cluster start --dashboard: with nobody attached it shows its engines; an attached
    # program's report (its own dashboard's JSON) while it runs; its engines' tasks after.
    "$ranks" cluster start "${relay[@]}" -n 3 --dashboard 0 >/dev/null || fail "start"
    url=$("$ranks" cluster status | sed -n 's/^  dashboard \(http:[^ ]*\)$/\1/p')
    [ -n "$url" ] || fail "no dashboard in: $("$ranks" cluster status)"
    expect "the dashboard is at $url" "$(cat "$RANKS_PROFILE_DIR/default/cluster.log")"
    status() { python3 -c "
import json, sys, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1] + 'api/status', timeout=10))
p = d['program']['name'] if d['program'] else None
print(d['title'], '|', len(d['engines']), sum(e['tasks'] for e in d['engines']), p,
      d['stream']['total'], sorted(o['kind'] for o in d['objects']))" "$url"; }
    sleep 0.5
    expect "^cluster default \| 3 0 None 0 \[\]" "$(status)"
    work=$(mktemp -d)
    timeout 60 "$build/tests/observed" 30 "$work/results" --wait "$work/done" >"$work/out" 2>&1 &
    pid=$!
    for _ in $(seq 300); do grep -q "tasks ran" "$work/out" && break; sleep 0.1; done
    sleep 2  # a report comes every second
    out=$(status)
    touch "$work/done"
    wait $pid || fail "observed: $(cat "$work/out")"
    expect "^cluster default: observed \(pid [0-9]+ on .*\) \| 3 32 observed 32 \['Event', 'Queue'\]" "$out"
    sleep 6  # its report is 5 s old: the hub's own view
    expect "^cluster default \| 3 32 None 0 \[\]" "$(status)"
    rm -rf "$work"
    ;;
  engine_dies)
    "$ranks" cluster start "${relay[@]}" -n 2 --no-refill >/dev/null || fail "start"
    out=$(timeout 30 "$client" kill-engine 2>&1) || fail "the client hung or failed: $out"
    expect "error: ranks::EngineLost: engine 0 \(pid [0-9]+ on .*\) died" "$out"
    status=$("$ranks" cluster status)
    expect "DEAD" "$status"
    expect "lost engines: not replaced, 0 so far" "$status"
    out=$(timeout 30 "$client" map 2>&1) || fail "a client after an engine died: $out"
    expect "engines=1" "$out"
    expect "sum=285" "$out"
    ;;
  refills)
    # A cluster on one host spawns an engine in place of each one lost, between programs. The
    # survivor keeps its id and namespace; the new engine gets a new id; the total of tasks run
    # keeps what the lost engine ran.
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    timeout 30 "$client" push x 7 >/dev/null || fail "push"
    out=$(timeout 30 "$client" who x 2>&1) || fail "who: $out"
    expect "ids=0,1" "$out"
    expect "engine=1 inside=1 pid=[0-9]+ x=7" "$out"
    survivor=$(sed -n 's/^engine=1 inside=1 pid=\([0-9]*\) .*/\1/p' <<<"$out")
    before=$("$ranks" cluster status | sed -n 's/^tasks run: //p')
    out=$(timeout 30 "$client" kill-engine 2>&1) || fail "the client hung or failed: $out"
    expect "error: ranks::EngineLost: engine 0 \(pid [0-9]+ on .*\) died" "$out"
    for _ in $(seq 100); do
      status=$("$ranks" cluster status)
      grep -q "replaced, 1 so far" <<<"$status" && break
      sleep 0.1
    done
    expect "lost engines: replaced, 1 so far" "$status"
    expect "2 engines on" "$status"
    grep -q DEAD <<<"$status" && fail "a dead engine is still listed: $status"
    expect "^  1 +[^ ]+ +$survivor " "$status"
    expect "^  2 +[^ ]+ +[0-9]+ " "$status"
    after=$(sed -n 's/^tasks run: //p' <<<"$status")
    [ "$after" -ge "$before" ] || fail "the total of tasks run fell from $before to $after"
    expect "cluster 'default': engine 0 \(MPI rank 1, pid [0-9]+ on .*\) died" \
      "$(cat "$RANKS_PROFILE_DIR/default/cluster.log")"
    out=$(timeout 30 "$client" who x 2>&1) || fail "who after the replacement: $out"
    expect "ids=1,2" "$out"
    expect "engine=1 inside=1 pid=$survivor x=7" "$out"
    expect "engine=2 inside=2 pid=[0-9]+ x=error: .*no name 'x' \(read as a int\) in engine 2's namespace \(it is empty; engine 2 stands in for a lost engine since [0-9-]+ [0-9:]+ UTC: what was pushed or set before then is not in it\)" "$out"
    out=$(timeout 30 "$client" engine 0 2>&1) || fail "a call on the lost engine: $out"
    expect "error: ranks: ranks::Client\\[\\]: engine 0 of cluster 'default' was lost before this program attached \(ids are never reused\); the ids alive are 1, 2" "$out"
    out=$(timeout 30 "$client" map 2>&1) || fail "a client after an engine was replaced: $out"
    expect "engines=2" "$out"
    expect "sum=285" "$out"
    # Killed from outside, with no program attached: replaced all the same.
    pid=$(json_field - "d['engine_list'][1]['pid']" "$RANKS_PROFILE_DIR/default/cluster.json")
    kill -9 "$pid"
    for _ in $(seq 100); do
      grep -q "replaced, 2 so far" <<<"$("$ranks" cluster status)" && break
      sleep 0.1
    done
    expect "replaced, 2 so far" "$("$ranks" cluster status)"
    out=$(timeout 30 "$client" map 2>&1) || fail "a client after the second replacement: $out"
    expect "engines=2" "$out"
    expect "sum=285" "$out"
    ;;
  unloadable)
    # A program built without ranks_add_executable cannot run on a cluster's engines. With a
    # "default" cluster running that it did not ask for, it spawns its own and says why in one
    # line; asked for by RANKS_CLUSTER, it fails and names RANKS_CLUSTER=none.
    "$ranks" cluster start "${relay[@]}" -n 2 >/dev/null || fail "start"
    out=$("$plain" map 2>&1) || fail "a program that did not name the default cluster failed: $out"
    expect "cluster=none" "$out"
    expect "not attaching to the running cluster 'default' \\(this program cannot run on the engines of cluster 'default': its task types are compiled into the executable itself; build it with ranks_add_executable.*\\); this program spawns its engines" "$out"
    [ "$(grep -c "not attaching" <<<"$out")" -eq 1 ] || fail "said more than one line: $out"
    out=$(RANKS_CLUSTER=default "$plain" map 2>&1) && fail "RANKS_CLUSTER=default ran a program its engines cannot load: $out"
    expect "cannot run on the engines of cluster 'default': its task types are compiled into the executable itself; build it with ranks_add_executable.* \\(RANKS_CLUSTER=none runs it with engines of its own\\)" "$out"
    out=$(RANKS_CLUSTER=none "$plain" map 2>&1) || fail "the same program with RANKS_CLUSTER=none: $out"
    expect "cluster=none" "$out"
    [ "$(grep -c "not attaching" <<<"$out")" -eq 0 ] || fail "RANKS_CLUSTER=none still said it: $out"
    ;;
  soak_attaches)
    # Hundreds of programs attach one after the other. Open MPI 4.1 keeps about 82 kB of each
    # program that connects over MPI in mpirun and 56 kB in each engine, for good; past the
    # connect limit the hub relays them, and nothing of a program stays: from program 100 to
    # 250 no process of the cluster may grow by more than 2 MB (all connected, the engines grow
    # by 8 MB and mpirun by 12). The engines keep their namespaces across the switch.
    limit=50 first=100 last=250 bound_kb=2048
    "$ranks" cluster start "${relay[@]}" --connect-limit $limit -n 2 >/dev/null || fail "start"
    profile=$RANKS_PROFILE_DIR/default/cluster.json
    pids="$(json_field "$profile" "d['pids']['hub'], d['pids']['mpirun'], *[e['pid'] for e in d['engine_list']]" "$profile" | tr -d '(),')"
    names=(hub mpirun engine0 engine1)
    rss() { for p in $pids; do awk '/VmRSS/{print $2}' "/proc/$p/status" || echo 0; done; }
    out=$("$client" push answer 41 2>&1) || fail "push: $out"
    for i in $(seq 2 $last); do
      out=$(timeout 30 "$client" map 2>&1) || fail "program $i: $out"
      expect "sum=285" "$out"
      [ "$i" -eq $first ] && mapfile -t before < <(rss)
    done
    mapfile -t after < <(rss)
    for k in "${!names[@]}"; do
      echo "${names[$k]}: VmRSS ${before[$k]} kB after $first programs, ${after[$k]} kB after $last"
      [ $((after[k] - before[k])) -le $bound_kb ] ||
        fail "${names[$k]} grew by $((after[k] - before[k])) kB over $((last - first)) programs"
    done
    out=$("$client" pull answer 2>&1) || fail "pull: $out"
    [ "$(grep -c '^answer=41$' <<<"$out")" -eq 2 ] || fail "the namespaces did not stay: $out"
    if [ ${#relay[@]} -eq 0 ]; then
      expect "programs connected over MPI: $limit of at most $limit" "$("$ranks" cluster status)"
      expect "$limit programs connected over MPI.*later programs reach the engines through the hub" \
        "$(cat "$RANKS_PROFILE_DIR/default/cluster.log")"
    fi
    ;;
  *)
    echo "unknown case $case"
    exit 64
    ;;
esac
echo PASS
