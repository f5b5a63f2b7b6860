#!/usr/bin/env python3
"""`gap-video: black` (issue #11 item 2): the real gateway records a test peer (SMPTE bars, never
black) that stops sending (--pause-at/--pause-for) or loses every UDP packet (nftables outage) for
a few seconds, into outputs whose template says black and one that keeps the default (freeze).

usage: test_black_gap.py BUILD_DIR pause|outage vp8|h264

The black templates are the shipped record-mkv and record-webm (VP8) or record-mp4 (H.264) with a
`gap-video: black` header line, from a templates folder in the test's temp dir. Each file is
decoded frame by frame (mean luma) and checked:
- black outputs: black keyframes fill the gap, the first one where the last real frame ends, one
  about every second, and real video (never black) before and after; no hole in the video
  longer than the repeat interval; the picture shown mid-gap is black;
- the freeze output: nothing in the gap (one hole of about the gap's length), never black, the
  picture shown mid-gap is the last real one;
- every file decodes without an error and its video spans the participant's presence.
"""

import os
import signal
import sys

import gap_peer
import gwtest
from test_av_gap import luma_per_frame

ROOM = 'blackgap'
GAP = 4.0  # seconds the sender is away
GAP_AT = 5.5
AFTER = 6.0
BLACK = 25.0  # mean luma below this is black (black is 16; the SMPTE bars average ~120)
REPEAT = 1.0  # the filler's repeat interval (VideoGapPlan::Settings::repeatEvery)

BLACK_OF = {'vp8': ('record-mkv', 'record-webm'), 'h264': ('record-mkv', 'record-mp4')}


def black_templates(h, codec):
    """Writes black-<shipped name> templates into a folder of the test; returns (folder, names)."""
    folder = os.path.join(h.dir, 'templates')
    os.makedirs(folder)
    names = []
    for shipped in BLACK_OF[codec]:
        with open(os.path.join(h.source_dir, 'pipelines', shipped + '.pipeline')) as f:
            text = f.read()
        head, sep, body = text.partition('\n---\n')
        name = 'black-' + shipped.split('-', 1)[1]
        with open(os.path.join(folder, name + '.pipeline'), 'w') as f:
            f.write(head + '\ngap-video: black' + sep + body)
        names.append(name)
    return folder, names


def shown_at(frames, t):
    """The mean luma of the picture a player shows at t: the last frame at or before t."""
    before = [y for ft, y in frames if ft <= t + 1e-6]
    return before[-1] if before else None


def analyse_black(f, name, frames):
    black = [t for t, y in frames if y < BLACK]
    if not f.check(len(black) >= 1, f'{name}: black frames in the gap ({len(black)})'):
        return None
    first, last = black[0], black[-1]
    real_before = [t for t, y in frames if y >= BLACK and t < first]
    real_after = [t for t, y in frames if y >= BLACK and t > last]
    f.check(len(real_before) >= 30 and len(real_after) >= 30,
            f'{name}: real video before ({len(real_before)} frames) and after ({len(real_after)}) the gap')
    f.check(not [t for t, y in frames if first < t < last and y >= BLACK],
            f'{name}: the black frames are one run, {first:.3f} .. {last:.3f} s')
    if not real_before or not real_after:
        return None
    spacing = (real_before[-1] - real_before[-11]) / 10 if len(real_before) > 10 else 0.05
    start_err = first - real_before[-1]
    f.check(0 < start_err <= max(0.1, 2.5 * spacing),
            f'{name}: the first black frame is where the video stopped ({start_err * 1000:.0f} ms after '
            f'the last real frame, frames every {spacing * 1000:.0f} ms)')
    away = real_after[0] - real_before[-1]
    f.check(GAP - 0.6 <= away <= GAP + 1.5,
            f'{name}: real video away {away:.2f} s (sender away {GAP:.1f} s)')
    f.check(len(black) >= int(GAP / REPEAT) - 1,
            f'{name}: {len(black)} black keyframes for a {GAP:.1f} s gap (one every {REPEAT:.0f} s)')
    steps = [b - a for a, b in zip(black, black[1:])]
    f.check(all(abs(s - REPEAT) <= 0.05 for s in steps),
            f'{name}: black repeated every {REPEAT:.0f} s ({", ".join(f"{s:.3f}" for s in steps)})')
    times = [t for t, _ in frames]
    hole = max(b - a for a, b in zip(times, times[1:]))
    f.check(hole <= REPEAT + 0.6, f'{name}: no hole in the video longer than {REPEAT + 0.6:.1f} s ({hole:.2f} s)')
    mid = (real_before[-1] + real_after[0]) / 2
    shown = shown_at(frames, mid)
    f.check(shown is not None and shown < BLACK, f'{name}: the picture at {mid:.2f} s (mid-gap) is black ({shown})')
    return away


def analyse_freeze(f, name, frames):
    dark = [t for t, y in frames if y < BLACK]
    f.check(not dark, f'{name}: no black frame in the freeze output ({len(dark)})')
    times = [t for t, _ in frames]
    hole, start, end = max((b - a, a, b) for a, b in zip(times, times[1:]))
    f.check(GAP - 0.6 <= hole <= GAP + 1.5,
            f'{name}: no frame in the gap: one hole of {hole:.2f} s from {start:.2f} s (gap {GAP:.1f} s)')
    shown = shown_at(frames, (start + end) / 2)
    f.check(shown is not None and shown >= BLACK, f'{name}: the picture mid-gap is the last real one ({shown})')


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ('pause', 'outage') or sys.argv[3] not in BLACK_OF:
        sys.exit(f'usage: {sys.argv[0]} BUILD_DIR pause|outage vp8|h264')
    mode, codec = sys.argv[2], sys.argv[3]
    gwtest.enter_netns()
    with gwtest.Harness(f'black-gap-{mode}-{codec}', sys.argv[1]) as h:
        f = h.failures
        server, port = h.start_signal()
        folder, black = black_templates(h, codec)
        templates = ['record-mkv'] + black
        gateway = h.start_gateway(port, ROOM, pipelines=templates, extra=('--pipelines-dir', folder))
        gap_peer.run_through_gap(h, gateway, port, ROOM, 'bars', codec, 'smpte', mode, GAP_AT, GAP,
                                 AFTER)
        log = h.log_text(gateway)
        for line in log.splitlines():
            if 'black keyframe' in line or 'video resumed at' in line:
                print('gateway: ' + line.split('] ', 1)[-1])
        f.check(log.count('black keyframes (') == len(black),
                f'each black output wrote black keyframes ({log.count("black keyframes (")} of {len(black)})')

        manifest = h.manifest(ROOM)
        session = h.session_dir(ROOM)
        who = manifest['participants'][0]
        entries = {e['template']: e for e in manifest['files'] if e['participant'] == who['id']}
        f.check(sorted(entries) == sorted(templates), f'one file per template: {sorted(entries)}')
        for template, entry in sorted(entries.items()):
            path = os.path.join(session, entry['path'])
            name = f'{os.path.basename(path)} ({template})'
            ok, err = gwtest.decodes(path)
            f.check(ok, f'{name}: decodes without error {err}')
            frames = luma_per_frame(path)
            if not f.check(len(frames) > 60, f'{name}: {len(frames)} video frames decoded'):
                continue
            f.check(frames[0][1] >= BLACK, f'{name}: starts with real video (luma {frames[0][1]:.0f})')
            times = [t for t, _ in frames]
            span = times[-1] - times[0]
            present = who['left'] - entry['start']
            f.check(abs(span - present) <= 0.8,
                    f'{name}: video spans {span:.2f} s for {present:.2f} s of presence (the timeline keeps its length)')
            if template in black:
                analyse_black(f, name, frames)
            else:
                analyse_freeze(f, name, frames)
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
