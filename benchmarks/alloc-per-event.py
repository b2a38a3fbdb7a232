#!/usr/bin/env python3
"""Bytes a server allocated per event, from a JFR recording's allocation samples (jdk.ObjectAllocationSample).

Only the last SECONDS of the recording are counted (the measured step: start-up and warm-up left out), divided by
the events offered in them (SECONDS x RATE). Prints the total, by thread, and by allocated class and the first frame
of AgentWire's own code (lambdas skipped) that led to it. JFR's samples are weighted estimates: read differences
of a tenth or more, and compare builds in one run of the same load.

    benchmarks/alloc-per-event.py agentwire.jfr SECONDS RATE [TOP_SITES]

Used by profile.sh; needs the JDK's `jfr` tool on the PATH.
"""
import collections
import datetime
import json
import re
import subprocess
import sys


def started(event):
    return datetime.datetime.fromisoformat(event["values"]["startTime"].replace("Z", "+00:00")).timestamp()


def frame_name(frame):
    return frame["method"]["type"]["name"].split(".")[-1].split("$$")[0] + "." + frame["method"]["name"]


def main():
    recording, seconds, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    printed = subprocess.run(["jfr", "print", "--json", "--stack-depth", "30", "--events",
                              "jdk.ObjectAllocationSample", recording], capture_output=True, text=True, check=True)
    events = json.loads(printed.stdout)["recording"]["events"]
    if not events:
        print("no allocation samples")
        return
    end = max(started(e) for e in events)
    total = 0
    by_thread = collections.Counter()
    by_site = collections.Counter()
    for event in events:
        if started(event) < end - seconds:
            continue
        values = event["values"]
        weight = values["weight"]
        total += weight
        thread = (values.get("eventThread") or {}).get("javaName") or "?"
        by_thread[re.sub(r"\d+", "N", thread)] += weight
        frames = [f for f in (values.get("stackTrace") or {}).get("frames", [])
                  if "Lambda" not in f["method"]["type"]["name"]]
        ours = [frame_name(f) for f in frames if f["method"]["type"]["name"].startswith("dev.agentwire")]
        site = ours[0] if ours else (frame_name(frames[0]) if frames else "?")
        by_site[(values["objectClass"]["name"].split("/")[-1], site)] += weight
    offered = seconds * rate
    print(f"last {seconds:.0f} s: {total / 1e6:.0f} MB sampled, {total / offered:.0f} bytes per event offered")
    for thread, weight in by_thread.most_common(8):
        print(f"  {weight / offered:7.0f} B/event  {thread}")
    for (kind, site), weight in by_site.most_common(top):
        print(f"  {weight / offered:7.0f} B/event  {kind:28s} {site}")


if __name__ == "__main__":
    main()
