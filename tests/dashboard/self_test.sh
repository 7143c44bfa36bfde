#!/bin/bash
# The dashboard page against the sample server: starts sample_server.py on a free
# loopback port, runs browser.sh against it RUNS times (default 1), then the empty
# sample once, and stops the servers. Exits non-zero if any run failed.
#
#   tests/dashboard/self_test.sh [RUNS] [SCREENSHOT.png]

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${1:-1}
SHOT=${2:-${TMPDIR:-/tmp}/dashboard-sample.png}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ranks-dashboard-self.XXXXXX") || exit 2
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_server NAME ARGS...: starts a sample server in the background (in this shell,
# so that its pid is kept for the cleanup); url_of NAME: its URL once it listens.
start_server() {
    local name=$1; shift
    python3 "$HERE/sample_server.py" 0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
}
url_of() {
    local name=$1
    for _ in $(seq 1 100); do
        if grep -q '^serving on ' "$WORK/$name.out" 2>/dev/null; then
            sed -n 's/^serving on //p' "$WORK/$name.out"
            return 0
        fi
        sleep 0.1
    done
    echo "self_test: the sample server ($name) did not start:" >&2
    cat "$WORK/$name.err" >&2
    return 1
}

start_server sample
start_server empty --empty
URL=$(url_of sample) || exit 1
EMPTY=$(url_of empty) || exit 1

failed=0
for i in $(seq 1 "$RUNS"); do
    if "$HERE/browser.sh" "$URL" "$SHOT" >"$WORK/run.log" 2>&1; then
        echo "run $i/$RUNS: PASS"
    else
        echo "run $i/$RUNS: FAIL"
        cat "$WORK/run.log"
        failed=$((failed + 1))
    fi
done
if "$HERE/browser.sh" "$EMPTY" "$WORK/empty.png" >"$WORK/run.log" 2>&1; then
    echo "empty sample: PASS"
else
    echo "empty sample: FAIL"
    cat "$WORK/run.log"
    failed=$((failed + 1))
fi
echo "screenshot of the sample: $SHOT"
[ "$failed" -eq 0 ] || { echo "self_test: $failed run(s) failed" >&2; exit 1; }
echo "self_test: all passed"
