#!/usr/bin/env python3
"""SVG chart of bench/participants/run.sh's results: CPU and RSS against N, both receivers.

usage: chart.py RESULTS.tsv [OUT.svg]   (default OUT: scaling.svg beside this script)

Two panels side by side: CPU in % of one core and RSS in MB (at the end of the window) against
the participant count N. Each run is a dot, the medians over the runs are joined by a line, so
the fixed cost (where a line meets N = 0) and the linear growth (its slope) read at a glance.
Plain SVG written by hand: Debian's python3-matplotlib is not installed on the bench machines,
and the chart needs nothing it offers.
"""
import csv
import math
import os
import statistics
import sys
from xml.sax.saxutils import escape

COLOURS = {"bare": "#1f77b4", "gateway": "#d62728", "baseline": "#7f7f7f"}
LABELS = {"bare": "bare webrtcbin receiver", "gateway": "roomcast (record-mkv)",
          "baseline": "roomcast before (BASELINE)"}
PANEL_W, PANEL_H = 380, 260
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 56, 16, 34, 44


def nice_max(v):
    """The smallest 5 x (1, 2, 2.5 or 5 x 10^k) at or above v: an axis with five round steps."""
    if v <= 0:
        return 1.0
    k = 10.0 ** (math.floor(math.log10(v / 5)))
    for mult in (1, 2, 2.5, 5, 10):
        if 5 * k * mult >= v:
            return 5 * k * mult
    return 50 * k


def ticks(top):
    step = top / 5
    return [step * i for i in range(6)]


def panel(x0, title, unit, points, xmax):
    """points: {receiver: [(n, value)]}; returns SVG elements for one panel at x offset x0."""
    values = [v for pts in points.values() for _, v in pts]
    ymax = nice_max(max(values) if values else 1.0)
    w = PANEL_W - MARGIN_L - MARGIN_R
    h = PANEL_H - MARGIN_T - MARGIN_B

    def px(n):
        return x0 + MARGIN_L + w * n / xmax

    def py(v):
        return MARGIN_T + h - h * v / ymax

    out = [f'<text x="{x0 + PANEL_W / 2}" y="18" text-anchor="middle" font-weight="bold">'
           f"{escape(title)}</text>"]
    for v in ticks(ymax):
        y = py(v)
        out.append(f'<line x1="{px(0)}" y1="{y:.1f}" x2="{px(xmax)}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{px(0) - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for n in ticks(xmax):
        x = px(n)
        out.append(f'<text x="{x:.1f}" y="{MARGIN_T + h + 16}" text-anchor="middle">{n:g}</text>')
    out.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(xmax)}" y2="{py(0)}" stroke="#333"/>')
    out.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(0)}" y2="{py(ymax)}" stroke="#333"/>')
    out.append(f'<text x="{px(xmax / 2)}" y="{PANEL_H - 8}" text-anchor="middle">'
               "participants N</text>")
    out.append(f'<text transform="translate({x0 + 14},{MARGIN_T + h / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(unit)}</text>')
    for kind, pts in sorted(points.items()):
        colour = COLOURS.get(kind, "#555")
        for n, v in pts:
            out.append(f'<circle cx="{px(n):.1f}" cy="{py(v):.1f}" r="2.2" fill="{colour}" '
                       'fill-opacity="0.45"/>')
        by_n = {}
        for n, v in pts:
            by_n.setdefault(n, []).append(v)
        line = " ".join(f"{px(n):.1f},{py(statistics.median(vs)):.1f}"
                        for n, vs in sorted(by_n.items()))
        out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
    return out


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: chart.py RESULTS.tsv [OUT.svg]")
    out_path = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "scaling.svg")
    with open(sys.argv[1]) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    cpu, rss = {}, {}
    for r in rows:
        n = int(r["N"])
        cpu.setdefault(r["receiver"], []).append((n, float(r["cpu_pct"])))
        rss.setdefault(r["receiver"], []).append((n, float(r["rss_mb"])))
    if not rows:
        sys.exit("no rows in " + sys.argv[1])
    xmax = nice_max(max(int(r["N"]) for r in rows))
    width, height = 2 * PANEL_W, PANEL_H + 30
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    svg += panel(0, "CPU of the receiver process", "% of one core", cpu, xmax)
    svg += panel(PANEL_W, "Memory of the receiver process", "RSS MB", rss, xmax)
    x = MARGIN_L
    kinds = sorted(set(cpu) | set(rss))
    step = (width - MARGIN_L) // max(len(kinds), 1)
    for kind in kinds:
        colour = COLOURS.get(kind, "#555")
        svg.append(f'<line x1="{x}" y1="{height - 10}" x2="{x + 18}" y2="{height - 10}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        svg.append(f'<text x="{x + 24}" y="{height - 6}">{escape(LABELS.get(kind, kind))} '
                   "(line: median; dots: runs)</text>")
        x += step
    svg.append("</svg>")
    with open(out_path, "w") as f:
        f.write("\n".join(svg) + "\n")
    print(out_path)


if __name__ == "__main__":
    main()
