#!/usr/bin/env bash
# command.sh RANKS: `ranks timeline` on traces written here by hand (3 engines on 2 hosts, known
# task times): the busy fractions it prints are exactly the expected ones, the chart is a PNG of
# the asked size, a trace cut short is read up to the cut, and each broken input or missing tool
# ends with a non-zero status and a message that says what to do. Exits 77 (skipped) without
# gnuplot (run.sh installs gnuplot-nox).
set -uo pipefail
ranks=$(realpath "$1")
command -v gnuplot >/dev/null || { echo "SKIP: gnuplot is not installed (apt install gnuplot-nox)"; exit 77; }
work=$(mktemp -d /tmp/ranks-timeline-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work/tmp  # where the command keeps gnuplot's files: checked to be left empty
mkdir "$TMPDIR"

fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect REGEX TEXT: a line of TEXT matches REGEX
  grep -Eq -- "$1" <<<"$2" || fail "expected /$1/ in:
$2"
}
# run NAME ARGS...: runs ranks with ARGS; its stdout, stderr and status in $out, $err, $rc.
run() {
  "$ranks" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  out=$(<"$work/out") err=$(<"$work/err")  # no cat: PATH may lead nowhere
  printf '$ ranks %s\n%s\n%s\n(exit status %s)\n\n' "$*" "$out" "$err" "$rc"
}
succeeds() { [ "$rc" -eq 0 ] || fail "exit status $rc"; [ -z "$(ls -A "$TMPDIR")" ] || fail "left $(ls "$TMPDIR")"; }
fails_with() {  # fails_with REGEX: a non-zero status, and REGEX on stderr
  [ "$rc" -ne 0 ] || fail "exit status 0, expected an error matching /$1/"
  expect "$1" "$err"
  [ -z "$(ls -A "$TMPDIR")" ] || fail "left $(ls "$TMPDIR")"
}
# is_png FILE WIDTH HEIGHT: the PNG signature, the size in its IHDR chunk, and more than a blank.
is_png() {
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$1 is not a PNG"
  [ "$(od -An -tu1 -j16 -N8 "$1" | awk '{print $3*256+$4 "x" $7*256+$8}')" = "$2x$3" ] ||
    fail "$1 is not $2x$3 pixels"
  [ "$(stat -c %s "$1")" -gt 8000 ] || fail "$1 is only $(stat -c %s "$1") bytes"
}

# The run lasts 2 s (µs in the trace). node0 runs engines 0 and 1, node1 engine 2.
#   engine 0: 0-0.5 s, 1.0-1.5 s, and 1.2-1.4 s inside the second: busy 1.0 s, 50%
#   engine 1: 0.25-0.5 s, and 1.0-1.25 s that failed: busy 0.5 s, 25%
#   engine 2: 0-1.5 s, then it is lost at 1.6 s: busy 1.5 s, 75%
# Events out of order; engine 2's task and the run event come last (the cut falls in the task).
task() {  # task ENGINE HOST START_US DUR_US OK
  printf ' {"name":"map #1","cat":"map","ph":"X","ts":%s,"dur":%s,"pid":%s,"tid":%s,' \
    "$3" "$4" "$([ "$2" = node0 ] && echo 1 || echo 2)" $(($1 + 1))
  printf '"args":{"engine":%s,"host":"%s","call":1,"first":0,"count":1,"attempt":0,"ok":%s}},\n' \
    "$1" "$2" "$5"
}
{
  echo '{"traceEvents":['
  echo ' {"name":"process_name","ph":"M","pid":0,"tid":0,"args":{"name":"program (pid 123 on node0)"}},'
  echo ' {"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"host node0"}},'
  echo ' {"name":"process_name","ph":"M","pid":2,"tid":0,"args":{"name":"host node1"}},'
  echo ' {"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"engine 0 (pid 456)"}},'
  echo ' {"name":"thread_name","ph":"M","pid":1,"tid":2,"args":{"name":"engine 1 (pid 457)"}},'
  echo ' {"name":"thread_name","ph":"M","pid":2,"tid":3,"args":{"name":"engine 2 (pid 458)"}},'
  task 1 node0 1000000 250000.0 false
  task 0 node0 1000000 500000 true
  task 0 node0 0 500000 true
  task 1 node0 250000 250000 true
  task 0 node0 1200000 200000.0 true
  echo ' {"name":"engine lost","cat":"loss","ph":"i","s":"t","ts":1600000,"pid":2,"tid":3,"args":{"engine":2,"host":"node1","signal":9}},'
  task 2 node1 0 1500000 true
  echo ' {"name":"run","cat":"run","ph":"X","ts":0,"dur":2000000,"pid":0,"tid":0,"args":{"engines":3,"tasks":6}}'
  echo '],"displayTimeUnit":"ms","otherData":{"ranks_timeline":1,"program":"sample","start_unix_us":1765000000000000}}'
} >"$work/run.json"

echo "== the whole run"
run timeline "$work/run.json" -o "$work/run.png" --width 900 --height 420
succeeds
expect '^run\.json: sample, 2\.000 s, 6 tasks on 3 engines, 1 failed$' "${out//"$work/"/}"
expect '^ *engine +host +tasks +failed +busy s +busy +lost at s$' "$out"
expect '^ +0  node0 +3 +0 +1\.000 +50\.0%$' "$out"
expect '^ +1  node0 +2 +1 +0\.500 +25\.0%$' "$out"
expect '^ +2  node1 +1 +0 +1\.500 +75\.0% +1\.600$' "$out"
expect '^ +total +6 +1 +3\.000 +50\.0%$' "$out"
expect "^wrote $work/run.png\$" "$out"
[ -z "$err" ] || fail "unexpected stderr: $err"
is_png "$work/run.png" 900 420

echo "== the default size; an existing chart is replaced"
run timeline "$work/run.json" -o "$work/run.png"
succeeds
is_png "$work/run.png" 1200 360

echo "== an engine that ran no task has a row, idle"
sed '/"engine 2 (pid 458)"/a\
 {"name":"thread_name","ph":"M","pid":2,"tid":4,"args":{"name":"engine 3 (pid 459)"}},' \
  "$work/run.json" >"$work/idle.json"
run timeline "$work/idle.json" -o "$work/idle.png"
succeeds
expect '^ +3  node1 +0 +0 +0\.000 +0\.0%$' "$out"
expect '^ +total +6 +1 +3\.000 +37\.5%$' "$out"

echo "== cut short inside engine 2's task: no run event, the run is the tasks' span (0-1.5 s)"
cut=$(grep -b '"engine":2,"host":"node1","call"' "$work/run.json" | cut -d: -f1)
head -c $((cut + 40)) "$work/run.json" >"$work/cut.json"
run timeline "$work/cut.json" -o "$work/cut.png"
succeeds
expect 'cut\.json was cut short .*showing the 5 tasks written before the cut' "$err"
expect '^cut\.json: program \(pid 123 on node0\), 1\.500 s, 5 tasks on 3 engines, 1 failed$' "${out//"$work/"/}"
expect '^ +0  node0 +3 +0 +1\.000 +66\.7%$' "$out"
expect '^ +1  node0 +2 +1 +0\.500 +33\.3%$' "$out"
expect '^ +2  node1 +0 +0 +0\.000 +0\.0% +1\.600$' "$out"  # its task cut off, its loss read
is_png "$work/cut.png" 1200 360

echo "== cut short between two events, and right after the array"
head -c $((cut - 20)) "$work/run.json" >"$work/cut2.json"
run timeline "$work/cut2.json" -o "$work/cut2.png"
succeeds
expect 'was cut short' "$err"
expect '^ +total +5 +1 ' "$out"
grep -v '"otherData"' "$work/run.json" >"$work/cut3.json"
echo '],' >>"$work/cut3.json"
run timeline "$work/cut3.json" -o "$work/cut3.png"
succeeds
expect 'was cut short' "$err"
expect '^ +0  node0 +3 +0 +1\.000 +50\.0%$' "$out"

echo "== errors"
run timeline "$work/none.json" -o "$work/x.png"
fails_with 'none\.json does not exist; write one by running the program with RANKS_TIMELINE='
printf '{"traceEvents":[{"ph":"X",, 1]}' >"$work/bad.json"
run timeline "$work/bad.json" -o "$work/x.png"
fails_with 'bad\.json is not JSON \(.*column 27.*\)'
: >"$work/empty.json"
run timeline "$work/empty.json" -o "$work/x.png"
fails_with 'empty\.json is empty'
echo '{"events":[]}' >"$work/other.json"
run timeline "$work/other.json" -o "$work/x.png"
fails_with 'other\.json has no traceEvents array'
grep -v '"cat":"map"' "$work/run.json" >"$work/notasks.json"
run timeline "$work/notasks.json" -o "$work/x.png"
fails_with 'notasks\.json has no task events'
head -c 200 "$work/notasks.json" >"$work/notasks_cut.json"
run timeline "$work/notasks_cut.json" -o "$work/x.png"
fails_with 'has no task events .* before the file was cut short'
run timeline "$work/run.json" -o "$work/no/such/dir/x.png"
fails_with 'cannot write .*x\.png: the directory .*/no/such/dir does not exist'
run timeline "$work/run.json"
fails_with '--output is required'
[ ! -e "$work/x.png" ] || fail "a chart was written on an error"

echo "== gnuplot missing, gnuplot failing"
run_with_path() { PATH=$1 run "${@:2}"; }
run_with_path /nonexistent timeline "$work/run.json" -o "$work/x.png"
fails_with 'gnuplot is not installed .*apt install gnuplot-nox'
mkdir "$work/bin"
printf '#!/bin/sh\necho "line 3: cannot draw here" >&2\nexit 3\n' >"$work/bin/gnuplot"
chmod +x "$work/bin/gnuplot"
run_with_path "$work/bin:$PATH" timeline "$work/run.json" -o "$work/x.png"
fails_with 'gnuplot exited with status 3'
expect 'line 3: cannot draw here' "$err"
[ ! -e "$work/x.png" ] || fail "a chart was written though gnuplot failed"
echo PASS
