#!/usr/bin/env python3
"""Markdown summary of bench/participants/run.sh's results.tsv: medians over runs, ratios per run.

usage: summary.py RESULTS.tsv [machine.txt]

Per (receiver, N): the median over the runs of each column (keyframe max: the worst of all
runs). Ratios gateway/bare are taken within one run (same machine load), then the median of
those is quoted. "Per added participant" is the slope between consecutive N levels of the
medians, which leaves out the fixed cost the first participant pays.
"""
import csv
import statistics
import sys


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def load(path):
    with open(path) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        r.setdefault("run", "1")
        r["run"] = r.get("run") or "1"
    return rows


def aggregate(rows):
    """{(receiver, N): {column: median}} plus the run count."""
    groups = {}
    for r in rows:
        groups.setdefault((r["receiver"], int(r["N"])), []).append(r)
    out = {}
    for key, rs in groups.items():
        agg = {"runs": len(rs)}
        for col in ("cpu_pct", "cpu_pct_per_participant", "rss_idle_mb", "rss_mb",
                    "rss_per_participant_mb", "keyframe_median_ms", "threads", "load1",
                    "senders_cpu_pct"):
            agg[col] = med(num(r.get(col)) for r in rs)
        maxes = [num(r.get("keyframe_max_ms")) for r in rs]
        maxes = [m for m in maxes if m is not None]
        agg["keyframe_max_ms"] = max(maxes) if maxes else None
        out[key] = agg
    return out


def ratios(rows, receiver="gateway"):
    """{N: (cpu ratio median, rss-per-participant ratio median, runs)} from same-run pairs."""
    by = {(r["receiver"], int(r["N"]), r["run"]): r for r in rows}
    acc = {}
    for (kind, n, run), g in by.items():
        b = by.get(("bare", n, run))
        if kind != receiver or not b:
            continue
        cpu = num(g["cpu_pct"]) / max(num(b["cpu_pct"]), 1e-9)
        rss = num(g["rss_per_participant_mb"]) / max(num(b["rss_per_participant_mb"]), 1e-9)
        acc.setdefault(n, []).append((cpu, rss))
    return {n: (med(c for c, _ in v), med(r for _, r in v), len(v)) for n, v in acc.items()}


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: summary.py RESULTS.tsv [machine.txt]")
    rows = load(sys.argv[1])
    if len(sys.argv) == 3:
        print("```")
        print(open(sys.argv[2]).read().rstrip())
        print("```")
        print()
    agg = aggregate(rows)
    print("Medians over the runs (keyframe max: worst of all runs).")
    print()
    print("| receiver | N | runs | CPU % of a core | CPU %/participant | RSS idle MB | RSS MB | "
          "RSS MB/participant | threads | ICE->keyframe median ms | max ms | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (kind, n), a in sorted(agg.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"| {kind} | {n} | {a['runs']} | {fmt(a['cpu_pct'])} | "
              f"{fmt(a['cpu_pct_per_participant'], 3)} | {fmt(a['rss_idle_mb'], 1)} | "
              f"{fmt(a['rss_mb'], 1)} | {fmt(a['rss_per_participant_mb'])} | "
              f"{fmt(a['threads'], 0)} | {fmt(a['keyframe_median_ms'], 0)} | "
              f"{fmt(a['keyframe_max_ms'], 0)} | {fmt(a['load1'])} |")
    for receiver in ("gateway", "baseline"):
        rat = ratios(rows, receiver)
        if not rat:
            continue
        print()
        print(f"| N | {receiver}/bare CPU (median of per-run ratios) | {receiver}/bare RSS per "
              "participant | runs |")
        print("|---:|---:|---:|---:|")
        for n in sorted(rat):
            cpu, rss, count = rat[n]
            print(f"| {n} | {fmt(cpu)} | {fmt(rss)} | {count} |")
    slopes = []
    for kind in ("bare", "gateway", "baseline"):
        levels = sorted(n for (k, n) in agg if k == kind)
        for lo, hi in zip(levels, levels[1:]):
            a, b = agg[(kind, lo)], agg[(kind, hi)]
            if None in (a["cpu_pct"], b["cpu_pct"], a["rss_mb"], b["rss_mb"]):
                continue
            d = hi - lo
            th = None
            if a["threads"] is not None and b["threads"] is not None:
                th = (b["threads"] - a["threads"]) / d
            slopes.append((lo, hi, kind, (b["cpu_pct"] - a["cpu_pct"]) / d,
                           (b["rss_mb"] - a["rss_mb"]) / d, th))
    if slopes:
        print()
        print("Per added participant (slope between N levels, from the medians):")
        print()
        print("| N from | N to | receiver | CPU % per added | RSS MB per added | threads per added |")
        print("|---:|---:|---|---:|---:|---:|")
        for lo, hi, kind, cpu, rss, th in sorted(slopes):
            print(f"| {lo} | {hi} | {kind} | {cpu:.3f} | {rss:.2f} | {fmt(th, 1)} |")


if __name__ == "__main__":
    main()
