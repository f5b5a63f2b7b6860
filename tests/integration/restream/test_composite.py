#!/usr/bin/env python3
"""The room composite's layout, by colour, as people join and leave: red, green, blue in, green out, all out, yellow in.

`composite-mp4` at 640x360, 15 fps records the composite (checked: its
frame rate, no gap in video or audio through all the changes). Red (VP8, 4:3 so that
its letterbox shows), green (H264, 16:9) and blue (VP8, 16:9) join in that
order, each once the previous one's video reached the gateway; then green
leaves, then red and blue, and yellow (VP8, 16:9) joins the empty room.
The finished file is decoded at 4 frames a second and every frame is
classified by the colour at the centre of each grid tile:

  red           1 participant fills the frame (red, pillarboxed: 4:3 in 16:9)
  red|green     2 side by side
  2x2 r g b -   3 in a 2x2: red top-left, green top-right, blue bottom-left,
                bottom-right dark (an empty cell)
  red|blue      green left: 2 side by side again, in join order
  black         red and blue left too: the empty room, and the mix goes on
  yellow        a new participant fills the frame again

The layouts must appear in exactly that order, each for at least a second
(settled, not a transition), each beginning and ending within the room
changes that cause it; in between only the expected transitions (a
joiner's dark tile before its video) and no unrecognisable picture for
more than half a second. Letterboxing is checked on red's 4:3 picture. The
audio must be sound (the peers' tones, mixed) while people are there and
silence in the empty room. Colours survive two lossy encodes only
approximately, so a tile's colour is its dominant channel (> 150) with the
others low (< 100); dark is every channel < 60 (the empty-tile grey is 48).
"""

import array
import os
import signal
import subprocess
import time
from datetime import datetime

from restream_test import gwtest, template_entries, stream_summary, stop_peer, wait_count

ROOM = 'grid'
WIDTH, HEIGHT = 640, 360
FRAMERATE = 15   # not the default 30: the parameter is honoured (and it spares the CPU)
SAMPLES_PER_SECOND = 4
SETTLE = 3.0    # seconds each layout is held before the next change

# Tile centres as fractions of the frame.
FULL = (0.5, 0.5)
LEFT, RIGHT = (0.25, 0.5), (0.75, 0.5)
TL, TR, BL, BR = (0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)

LAYOUTS = [
    ('red', {FULL: 'red'}),
    ('red|green', {LEFT: 'red', RIGHT: 'green'}),
    ('2x2 r g b -', {TL: 'red', TR: 'green', BL: 'blue', BR: 'dark'}),
    ('red|blue', {LEFT: 'red', RIGHT: 'blue'}),
    ('black', {FULL: 'dark', TL: 'dark', TR: 'dark', BL: 'dark', BR: 'dark'}),
    ('yellow', {FULL: 'yellow', TL: 'yellow', BR: 'yellow'}),
]


def colour_name(rgb):
    r, g, b = rgb
    if max(rgb) < 60:
        return 'dark'
    for name, (hi, lo1, lo2) in (('red', (r, g, b)), ('green', (g, r, b)), ('blue', (b, r, g))):
        if hi > 150 and lo1 < 100 and lo2 < 100:
            return name
    if r > 150 and g > 150 and b < 100:
        return 'yellow'
    return f'rgb({r:.0f},{g:.0f},{b:.0f})'


class Frame:
    def __init__(self, t, width, height, data):
        self.t, self.width, self.height, self.data = t, width, height, data

    def mean(self, fx, fy, half=0.04):
        """Mean RGB of a square around (fx, fy) (fractions), half-size `half` of the frame height."""
        cx, cy, r = int(fx * self.width), int(fy * self.height), max(1, int(half * self.height))
        total, n = [0, 0, 0], 0
        for y in range(max(0, cy - r), min(self.height, cy + r)):
            row = y * self.width * 3
            for x in range(max(0, cx - r), min(self.width, cx + r)):
                i = row + x * 3
                total[0] += self.data[i]
                total[1] += self.data[i + 1]
                total[2] += self.data[i + 2]
                n += 1
        return tuple(c / n for c in total)

    def colour(self, point):
        return colour_name(self.mean(*point))


def decode_frames(path, width, height, rate):
    """Frames of path at `rate` a second, as rgb24 at the stream's size (ffmpeg's fps filter picks them)."""
    out = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-i', path, '-map', '0:v:0',
                          '-vf', f'fps={rate}', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
                         capture_output=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f'ffmpeg cannot decode {path}: {out.stderr.decode(errors="replace")[-400:]}')
    size = width * height * 3
    data = out.stdout
    return [Frame(i / rate, width, height, data[i * size:(i + 1) * size]) for i in range(len(data) // size)]


def audio_rms(path, start, seconds=1.0):
    """RMS (0..32768) of the file's audio from start for seconds, mono 8 kHz."""
    out = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-ss', f'{start:.3f}', '-i', path, '-map', '0:a:0',
                          '-t', f'{seconds:.3f}', '-ac', '1', '-ar', '8000', '-f', 's16le', '-'],
                         capture_output=True, timeout=60)
    samples = array.array('h', out.stdout[:len(out.stdout) // 2 * 2])
    if not samples:
        return None
    return (sum(x * x for x in samples) / len(samples)) ** 0.5


def session_epoch(manifest):
    """The manifest's session_start (ISO 8601, UTC) as a Unix time, or None."""
    text = manifest.get('session_start')
    if not text:
        return None
    return datetime.fromisoformat(text.replace('Z', '+00:00')).timestamp()


# Allowed in between, not required: a joiner's dark tile until its video is decoded, and a
# layout of the leavers' order (red leaves a moment before blue).
TRANSITIONS = [
    ('red|dark', {LEFT: 'red', RIGHT: 'dark'}),
    ('2x2 r g - -', {TL: 'red', TR: 'green', BL: 'dark', BR: 'dark'}),
    ('dark', {FULL: 'dark', TL: 'dark', BR: 'dark'}),
    ('blue', {FULL: 'blue', TL: 'blue', BR: 'blue'}),
]


def classify(frame):
    for name, tiles in LAYOUTS + TRANSITIONS:
        if all(frame.colour(p) == c for p, c in tiles.items()):
            return name
    return '?'


def runs(labels):
    """[(label, first index, count)] of consecutive equal labels."""
    out = []
    for i, label in enumerate(labels):
        if out and out[-1][0] == label:
            out[-1][2] += 1
        else:
            out.append([label, i, 1])
    return out


def main():
    gwtest.enter_netns()
    with gwtest.Harness('restream-composite', gwtest.build_dir_from_args()) as h:
        f = h.failures
        server, port = h.start_signal()
        gateway = h.start_gateway(port, ROOM, pipelines=('composite-mp4',),
                                  extra=['--param', f'width={WIDTH}', '--param', f'height={HEIGHT}',
                                         '--param', f'framerate={FRAMERATE}'])
        # Each change of the room, as a wall-clock interval [began, done]: a join from starting
        # the peer to its video reaching the gateway (its keyframe gate opening), a leave from
        # SIGTERM to the peer's exit (it sends `leave` first).
        events = {}
        peers = {}

        def join(name, codec, count, w=640, hgt=360):
            began = time.time()
            peers[name] = h.start_testpeer(port, ROOM, name, codec, pattern=name, width=w, height=hgt)
            wait_count(h, gateway, r'keyframe gate open', count, 20)
            events[f'+{name}'] = (began, time.time())
            h.say(f'{name} video reached the gateway')

        def leave(*names):
            began = time.time()
            for name in names:
                f.check(stop_peer(h, peers[name]) == 0, f'{name} left and exited 0')
            events['-' + '-'.join(names)] = (began, time.time())

        # Each joins once the previous one's video reached the gateway.
        join('red', 'vp8', 1, w=480)
        time.sleep(SETTLE)
        join('green', 'h264', 2)
        time.sleep(SETTLE)
        join('blue', 'vp8', 3)
        time.sleep(SETTLE)
        leave('green')
        h.wait_log(gateway, r'finishing participant .* \(left the room\)', 10)
        time.sleep(SETTLE)
        # Everyone leaves: black (the mix goes on); then someone new fills the frame again.
        leave('red', 'blue')
        time.sleep(SETTLE)
        join('yellow', 'vp8', 4)
        time.sleep(SETTLE)
        events['end'] = (time.time(), time.time())
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'gateway exits 0 on SIGTERM')

        # ----- the file -----
        entries = template_entries(h, ROOM, 'composite-mp4')
        if not f.check(len(entries) == 1, f'one composite-mp4 file in the manifest: {entries}'):
            return
        entry = entries[0]
        path = os.path.join(h.session_dir(ROOM), entry['path'])
        f.check(entry.get('finished') is True, 'manifest: the composite is finished')
        info = gwtest.probe_streams(path)
        summary = stream_summary(info)
        f.check(summary == ('h264', WIDTH, HEIGHT, 'aac'), f'composite is H.264 {WIDTH}x{HEIGHT} + AAC: {summary}')
        f.check(info['format'].get('format_name', '').startswith('mov'), 'composite is MP4')
        vpk = gwtest.probe_packets(path, 'v')
        fps = (len(vpk) - 1) / (max(p['pts'] for p in vpk) - min(p['pts'] for p in vpk)) if len(vpk) > 1 else 0
        f.check(abs(fps - FRAMERATE) <= 0.5, f'composite runs at {fps:.2f} fps (framerate={FRAMERATE})')
        f.check(gwtest.largest_gap(vpk) < gwtest.allowance(0.5), f'composite has no video gap ({gwtest.largest_gap(vpk):.2f} s)')
        apk = gwtest.probe_packets(path, 'a')
        f.check(gwtest.largest_gap(apk) < gwtest.allowance(0.5), f'composite has no audio gap ({gwtest.largest_gap(apk):.2f} s)')
        ok, err = gwtest.decodes(path)
        f.check(ok, f'composite decodes without error {err}')

        # ----- the layouts, in order -----
        frames = decode_frames(path, WIDTH, HEIGHT, SAMPLES_PER_SECOND)
        labels = [classify(fr) for fr in frames]
        seq = runs(labels)
        h.say('layouts: ' + ', '.join(f'{label}@{i / SAMPLES_PER_SECOND:.2f}s x{n}' for label, i, n in seq))
        settled = [r for r in seq if r[0] in dict(LAYOUTS) and r[2] >= SAMPLES_PER_SECOND]
        # The mix starts with the gateway: black until the first participant's tile.
        while settled and settled[0][0] == 'black':
            settled.pop(0)
        order = [r[0] for r in settled]
        f.check(order == [name for name, _ in LAYOUTS],
                f'settled layouts (>= 1 s each) in order {order} == {[name for name, _ in LAYOUTS]}')
        # Nothing unexpected in between: a frame that is no layout at all (a blend, a wrong
        # colour) may only be a moment of a change.
        strange = [r for r in seq if r[0] == '?' and r[2] > SAMPLES_PER_SECOND // 2]
        f.check(not strange, f'no unrecognised picture lasts more than 0.5 s: '
                f'{[(r[1] / SAMPLES_PER_SECOND, r[2]) for r in strange]}')
        for r in seq:
            if r[0] == '?':
                fr = frames[r[1]]
                h.say(f'  unrecognised at {fr.t:.2f} s: ' + ', '.join(
                    f'{p}={colour_name(fr.mean(*p))}' for p in (FULL, LEFT, RIGHT, TL, TR, BL, BR)))

        # Timing: each settled layout begins and ends within the room changes that cause it.
        # File time = session time - the entry's start. A tile appears when its participant
        # joins (dark until its video arrives) and its picture once the video is decoded; it
        # goes when the gateway handles peer-left (after a 300 ms drain). So a change must fall
        # within [event began - 0.5 s, event done + 1.5 s].
        start = entry.get('start')
        epoch = session_epoch(h.manifest(ROOM))
        if f.check(start is not None and epoch is not None, f'manifest: composite start {start} on the session clock'):
            def window(event):
                began, done = events[event]
                return (began - epoch - start - gwtest.allowance(0.5),
                        done - epoch - start + gwtest.allowance(1.5))
            causes = {'red': ('+red', '+green'), 'red|green': ('+green', '+blue'),
                      '2x2 r g b -': ('+blue', '-green'), 'red|blue': ('-green', '-red-blue'),
                      'black': ('-red-blue', '+yellow'), 'yellow': ('+yellow', 'end')}
            for label, first, count in settled:
                t0, t1 = first / SAMPLES_PER_SECOND, (first + count) / SAMPLES_PER_SECOND
                (a0, a1), (b0, b1) = (window(e) for e in causes[label])
                # The last one ends with the file.
                ok = a0 <= t0 <= a1 and (label == 'yellow' or b0 <= t1 <= b1)
                f.check(ok, f'{label}: shown {t0:.2f}-{t1:.2f} s; begins in [{a0:.2f}, {a1:.2f}], '
                        f'ends in [{b0:.2f}, {b1:.2f}] (file time)')

        # The audio is the participants' mix (each sends a 440 Hz tone): sound while people are
        # there, silence in the empty room.
        for label, want in (('red|green', 'sound'), ('black', 'silence')):
            run = next((r for r in settled if r[0] == label), None)
            if run and run[2] >= 2 * SAMPLES_PER_SECOND:
                mid = (run[1] + run[2] / 2) / SAMPLES_PER_SECOND
                rms = audio_rms(path, mid - 0.5)
                ok = rms is not None and (rms > 300 if want == 'sound' else rms < 30)
                f.check(ok, f'{label}: audio RMS {rms if rms is None else round(rms)} around {mid:.1f} s is {want}')

        # The letterbox: red (4:3) fills the frame's height, with dark bars left and right.
        first = next((r for r in settled if r[0] == 'red'), None)
        if first:
            fr = frames[first[1] + first[2] // 2]
            bars = [colour_name(fr.mean(0.03, 0.5)), colour_name(fr.mean(0.97, 0.5))]
            inside = [colour_name(fr.mean(0.15, 0.5)), colour_name(fr.mean(0.85, 0.5)),
                      colour_name(fr.mean(0.5, 0.05)), colour_name(fr.mean(0.5, 0.95))]
            f.check(bars == ['dark', 'dark'], f'1 participant (4:3): dark pillarbox bars at the sides: {bars}')
            f.check(inside == ['red'] * 4, f'1 participant (4:3): red fills the height: {inside}')
        pair = next((r for r in settled if r[0] == 'red|green'), None)
        if pair:
            fr = frames[pair[1] + pair[2] // 2]
            # 4:3 in a 320x360 half: 320x240, centred, so dark above and below.
            bars = [colour_name(fr.mean(0.25, 0.06)), colour_name(fr.mean(0.25, 0.94))]
            f.check(bars == ['dark', 'dark'], f'2 side by side: red (4:3) letterboxed above and below: {bars}')
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
