#!/usr/bin/env python3
"""check_trace.py TRACE RESULTS TASKS: checks a ranks timeline against the run that wrote it.

The file must be what Perfetto's JSON importer (the Chrome trace event format) takes: an object
with a traceEvents list whose events carry the fields their phase requires. Then, against the
run: one "X" event per map task, on the engine that ran it (RESULTS: "item engine" lines), start
before end, inside the run's own event; the failed apply marked ok false; the Process there.
"""
import json
import sys

# The fields each phase needs (Chrome's "Trace Event Format", which Perfetto imports).
REQUIRED = {
    "X": ("name", "ph", "ts", "dur", "pid", "tid"),
    "i": ("name", "ph", "ts", "pid", "tid", "s"),
    "M": ("name", "ph", "pid", "args"),
}


def fail(text):
    print("check_trace: " + text)
    sys.exit(1)


def main(path, results_path, tasks):
    with open(path) as f:
        trace = json.load(f)
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        fail("no traceEvents list")
    events = trace["traceEvents"]
    for e in events:
        need = REQUIRED.get(e.get("ph"))
        if need is None:
            fail("an event of unknown phase: %r" % e)
        for field in need:
            if field not in e:
                fail("a %s event without %s: %r" % (e["ph"], field, e))
        for field in ("ts", "dur", "pid", "tid"):
            if field in e and not isinstance(e[field], (int, float)):
                fail("%s is not a number: %r" % (field, e))
        if e["ph"] == "M" and e["name"] not in ("process_name", "thread_name"):
            fail("a metadata event Perfetto does not know: %r" % e)
    runs = [e for e in events if e["ph"] == "X" and e.get("cat") == "run"]
    if len(runs) != 1:
        fail("%d run events, not 1" % len(runs))
    run_end = runs[0]["dur"]
    task_events = [e for e in events if e["ph"] == "X" and "engine" in e.get("args", {})]
    for e in task_events:
        if not (e["dur"] > 0 and e["ts"] >= 0 and e["ts"] + e["dur"] <= run_end):
            fail("a task outside the run (0 .. %.3f us) or not after its start: %r" % (run_end, e))
        if e["tid"] != e["args"]["engine"] + 1:
            fail("a task on another engine's track: %r" % e)
    maps = [e for e in task_events if e["cat"] == "map"]
    ran_on = {}
    with open(results_path) as f:
        for line in f:
            item, engine = map(int, line.split())
            ran_on[item] = engine
    if len(ran_on) != tasks or len(maps) != tasks:
        fail("%d map events and %d results, for %d tasks" % (len(maps), len(ran_on), tasks))
    seen = set()
    for e in maps:
        item = e["args"]["first"]
        if item in seen:
            fail("two events for item %d" % item)
        seen.add(item)
        if e["args"]["engine"] != ran_on[item]:
            fail("item %d: the trace says engine %d, the task said %d"
                 % (item, e["args"]["engine"], ran_on[item]))
        if not e["args"]["ok"] or e["args"]["count"] != 1:
            fail("a map task that failed or covered more than one item: %r" % e)
    failed = [e for e in task_events if e["cat"] == "apply" and not e["args"]["ok"]]
    if len(failed) != 1:
        fail("%d failed apply events, not 1" % len(failed))
    if len([e for e in task_events if e["cat"] == "Process"]) != 1:
        fail("no Process event")
    named = {e["tid"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    if any(e["tid"] not in named for e in task_events):
        fail("a task on a track without a name")
    engines = {e["args"]["engine"] for e in maps}
    print("check_trace: %d events; %d map tasks on %d engines, each where it ran, inside the "
          "run's %.1f ms" % (len(events), len(maps), len(engines), run_end / 1000))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
