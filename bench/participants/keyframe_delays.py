#!/usr/bin/env python3
"""Time from ICE connected to first video keyframe, per participant, from a receiver's log.

Prints one line: "count median max" in milliseconds, or "0 - -".

  bare:    roomcast-bench-receiver logs "first keyframe from P X ms after ICE
           connected" itself (both instants taken on the threads that see them).
  gateway: roomcast (at --log-level debug) logs "gateway: P: ICE state 2|3"
           and, per video stream, "gateway: P: recording video ..." (info)
           followed by "gateway: keyframe gate open ..." (debug, no peer id)
           when the first keyframe passes towards the muxer. The k-th gate line
           is paired with the k-th "recording video" line; the gateway does not
           log the peer with the gate, so with several participants starting
           together a pairing may be off by a few milliseconds.
"""
import re
import statistics
import sys
from datetime import datetime

STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")


def stamp_ms(line):
    m = STAMP.match(line)
    if not m:
        return None
    t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
    return t.timestamp() * 1000.0


def bare(lines):
    out = []
    for line in lines:
        m = re.search(r"first keyframe from \S+ (-?[0-9.]+) ms after ICE connected", line)
        if m and float(m.group(1)) >= 0:
            out.append(float(m.group(1)))
    return out


def gateway(lines):
    ice, order, gates = {}, [], []
    for line in lines:
        t = stamp_ms(line)
        if t is None:
            continue
        m = re.search(r"gateway: (\S+): ICE state ([23])\b", line)
        if m and m.group(1) not in ice:
            ice[m.group(1)] = t
            continue
        m = re.search(r"gateway: (\S+): recording video ", line)
        if m:
            order.append(m.group(1))
            continue
        if "gateway: keyframe gate open" in line:
            gates.append(t)
    out = []
    for peer, gate in zip(order, gates):
        if peer in ice:
            out.append(gate - ice[peer])
    return out


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("bare", "gateway"):
        sys.exit("usage: keyframe_delays.py bare|gateway LOG")
    with open(sys.argv[2], errors="replace") as f:
        lines = f.readlines()
    delays = bare(lines) if sys.argv[1] == "bare" else gateway(lines)
    if not delays:
        print("0 - -")
        return
    print(f"{len(delays)} {statistics.median(delays):.0f} {max(delays):.0f}")


if __name__ == "__main__":
    main()
