#!/usr/bin/env python3
"""Per-thread-class CPU of one process over a window, from /proc/PID/task/*/stat.

usage: thread_cpu.py snap PID > A        (utime+stime ticks per thread, with its name)
       thread_cpu.py diff A B WINDOW_S [N]  (TSV: class, threads, % of a core, % per participant)

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
        print(f"{tid}\t{name}\t{ticks}")


def read(path):
    hz, threads = 100, {}
    with open(path) as f:
        for line in f:
            if line.startswith("# hz"):
                hz = int(line.split()[2])
                continue
            tid, name, ticks = line.rstrip("\n").split("\t")
            threads[tid] = (name, int(ticks))
    return hz, threads


def diff(a, b, window, n):
    hz, before = read(a)
    _, after = read(b)
    classes = {}
    for tid, (name, ticks) in after.items():
        used = ticks - before.get(tid, (name, 0))[1]
        key = re.sub(r"\d+", "#", name)
        count, total = classes.get(key, (0, 0))
        classes[key] = (count + 1, total + used)
    print("class\tthreads\tcpu_pct\tcpu_pct_per_participant")
    for key, (count, used) in sorted(classes.items()):
        pct = used / hz / window * 100
        print(f"{key}\t{count}\t{pct:.2f}\t{pct / n:.3f}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "snap":
        snap(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
