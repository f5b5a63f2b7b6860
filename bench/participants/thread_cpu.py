#!/usr/bin/env python3
"""Per-thread-class CPU and wake-ups of one process over a window, from /proc/PID/task/*/stat
and .../status.

usage: thread_cpu.py snap PID > A        (per thread: name, utime+stime ticks, context switches)
       thread_cpu.py diff A B WINDOW_S [N]  (TSV: class, threads, % of a core, % per participant,
                                            voluntary and involuntary context switches per second)

A voluntary context switch is a thread going to sleep (on a queue's condition, a futex, poll),
so it counts the hand-offs between threads: each one is later a wake-up by another thread.

A thread's class is its name (comm) with digits replaced by '#', so "queue12:src" and
"queue3:src" count together as "queue#:src". Threads that started during the window count from
0; threads that ended during it are missed (their ticks are gone with them). Time sliced by
what the threads do, not by how loaded the machine is, so it compares well across runs.
"""
import os
import re
import sys


def snap(pid):
    hz = os.sysconf("SC_CLK_TCK")
    print(f"# hz {hz}")
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            with open(f"{base}/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])
        switches = {"voluntary_ctxt_switches": 0, "nonvoluntary_ctxt_switches": 0}
        try:
            with open(f"{base}/{tid}/status") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key in switches:
                        switches[key] = int(value)
        except OSError:
            pass
        print(f"{tid}\t{name}\t{ticks}\t{switches['voluntary_ctxt_switches']}"
              f"\t{switches['nonvoluntary_ctxt_switches']}")


def read(path):
    hz, threads = 100, {}
    with open(path) as f:
        for line in f:
            if line.startswith("# hz"):
                hz = int(line.split()[2])
                continue
            fields = line.rstrip("\n").split("\t")
            tid, name = fields[0], fields[1]
            counts = [int(x) for x in fields[2:]] + [0] * (5 - len(fields))  # older snaps: ticks only
            threads[tid] = (name, counts)
    return hz, threads


def diff(a, b, window, n):
    hz, before = read(a)
    _, after = read(b)
    classes = {}
    for tid, (name, counts) in after.items():
        start = before.get(tid, (name, [0, 0, 0]))[1]
        used = [a - b for a, b in zip(counts, start)]
        key = re.sub(r"\d+", "#", name)
        count, total = classes.get(key, (0, [0, 0, 0]))
        classes[key] = (count + 1, [t + u for t, u in zip(total, used)])
    print("class\tthreads\tcpu_pct\tcpu_pct_per_participant\tvoluntary_switches_per_s"
          "\tinvoluntary_switches_per_s")
    for key, (count, (ticks, voluntary, involuntary)) in sorted(classes.items()):
        pct = ticks / hz / window * 100
        print(f"{key}\t{count}\t{pct:.2f}\t{pct / n:.3f}\t{voluntary / window:.0f}"
              f"\t{involuntary / window:.0f}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "snap":
        snap(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
