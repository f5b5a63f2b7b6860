#!/usr/bin/env python3
"""Time from ICE connected to first video keyframe, per participant, from a receiver's log.

Prints one line: "count median max" in milliseconds, or "0 - -".

Both receivers log one line per participant, with both instants taken in the process:
  bare:    roomcast-bench-receiver: "first keyframe from P X ms after ICE connected" when the
           keyframe leaves the depayloader;
  gateway: roomcast (info): "gateway: first keyframe from P X ms after ICE connected" when the
           keyframe gate lets the first keyframe through towards the outputs (the muxer); ICE
           connected is the first CONNECTED/COMPLETED state webrtcbin reported.
The line is the contract between the receivers and this script: keep its wording.
"""
import re
import statistics
import sys


def delays(lines):
    out = []
    for line in lines:
        m = re.search(r"first keyframe from \S+ (-?[0-9.]+) ms after ICE connected", line)
        if m and float(m.group(1)) >= 0:
            out.append(float(m.group(1)))
    return out


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("bare", "gateway"):
        sys.exit("usage: keyframe_delays.py bare|gateway LOG")
    with open(sys.argv[2], errors="replace") as f:
        lines = f.readlines()
    found = delays(lines)
    if not found:
        print("0 - -")
        return
    print(f"{len(found)} {statistics.median(found):.0f} {max(found):.0f}")


if __name__ == "__main__":
    main()
