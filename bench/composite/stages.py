#!/usr/bin/env python3
"""What a room composite frame costs where: decode, scale, composite, encode, as CPU seconds per media second.

Standalone GStreamer pipelines (gst-launch-1.0, no gateway, no network) run as
fast as they can over the same encoded clips, one stage added at a time, so
each stage's cost is the difference between two rows. CPU time
(utime+stime of the process and its threads), not wall time: it barely
depends on the machine's other load. Each row runs --repeat times; the
median is printed.

  stages.py [--tiles 9] [--seconds 10] [--repeat 3] [--orc default,backup,emulate]

The clips are made once in --dir (default /tmp/roomcast-stages): 640x360@30 (--clip-size)
test patterns, VP8 'ball' (a moving ball) and H264 'snow' (noise, the hard
case for any encoder) at about 600 kbit/s, as roomcast-testpeer sends.
Tiles alternate between the two.
"""

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys


def run(cmd, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def make_clips(d, seconds, size='640x360'):
    os.makedirs(d, exist_ok=True)
    n = seconds * 30
    width, height = size.split('x')
    suffix = '' if size == '640x360' else f'-{size}'
    clips = {'vp8': os.path.join(d, f'ball-vp8-{seconds}{suffix}.webm'),
             'h264': os.path.join(d, f'snow-h264-{seconds}{suffix}.mkv')}
    if not os.path.exists(clips['vp8']):
        subprocess.run(['gst-launch-1.0', '-q', 'videotestsrc', 'pattern=ball', f'num-buffers={n}', '!',
                        f'video/x-raw,width={width},height={height},framerate=30/1', '!', 'vp8enc', 'deadline=1',
                        'end-usage=cbr', 'target-bitrate=600000', 'cpu-used=8', '!', 'webmmux', '!',
                        'filesink', f'location={clips["vp8"]}'], check=True)
    if not os.path.exists(clips['h264']):
        subprocess.run(['gst-launch-1.0', '-q', 'videotestsrc', 'pattern=snow', f'num-buffers={n}', '!',
                        f'video/x-raw,width={width},height={height},framerate=30/1', '!', 'x264enc', 'tune=zerolatency',
                        'speed-preset=veryfast', 'bitrate=600', 'key-int-max=60', '!',
                        'video/x-h264,profile=constrained-baseline', '!', 'h264parse', '!', 'matroskamux', '!',
                        'filesink', f'location={clips["h264"]}'], check=True)
    return clips


def source(i, clips):
    if i % 2 == 0:
        return f'filesrc location={clips["vp8"]} ! matroskademux ! vp8dec'
    return f'filesrc location={clips["h264"]} ! matroskademux ! h264parse ! avdec_h264'


def grid(tiles, width=1280, height=720):
    cols = math.ceil(math.sqrt(tiles))
    rows = math.ceil(tiles / cols)
    cells = []
    for i in range(tiles):
        c, r = i % cols, i // cols
        x0, x1 = width * c // cols, width * (c + 1) // cols
        y0, y1 = height * r // rows, height * (r + 1) // rows
        w, h = x1 - x0, y1 - y0
        # letterbox a 16:9 picture
        pw, ph = (w, round(w * 9 / 16)) if w * 9 <= h * 16 else (round(h * 16 / 9), h)
        pw, ph = pw - pw % 2, ph - ph % 2
        cells.append((x0 + (w - pw) // 2, y0 + (h - ph) // 2, pw, ph))
    return cells


def pipelines(tiles, clips, encoder):
    cells = grid(tiles)
    out = 'video/x-raw,format=I420,width=1280,height=720,framerate=30/1'
    rows = {}
    rows['decode'] = ' '.join(f'{source(i, clips)} ! fakesink sync=false' for i in range(tiles))
    rows['decode+videoscale'] = ' '.join(
        f'{source(i, clips)} ! videoscale ! video/x-raw,width={w},height={h} ! fakesink sync=false'
        for i, (x, y, w, h) in enumerate(cells))

    def comp(prescale, sink, method=''):
        pads = ' '.join(f'sink_{i}::xpos={x} sink_{i}::ypos={y} sink_{i}::width={w} sink_{i}::height={h}'
                        for i, (x, y, w, h) in enumerate(cells))
        ins = ' '.join(
            f'{source(i, clips)} ! {"videoscale " + method + " ! video/x-raw,width=%d,height=%d ! " % (w, h) if prescale else ""}'
            f'videoconvert ! video/x-raw,format=I420 ! queue ! c.sink_{i}'
            for i, (x, y, w, h) in enumerate(cells))
        return f'compositor name=c background=black {pads} ! {out} ! {sink} {ins}'
    rows['decode+compositor-scales'] = comp(False, 'fakesink sync=false')
    rows['decode+videoscale+compositor'] = comp(True, 'fakesink sync=false')
    rows['decode+videoscale+compositor+x264-veryfast'] = comp(
        True, f'x264enc tune=zerolatency speed-preset=veryfast bitrate=2500 key-int-max=60 {encoder} ! fakesink sync=false')
    rows['decode+videoscale+compositor+x264-superfast'] = comp(
        True, f'x264enc tune=zerolatency speed-preset=superfast bitrate=2500 key-int-max=60 {encoder} ! fakesink sync=false')
    rows['decode+compositor-scales+x264-veryfast'] = comp(
        False, f'x264enc tune=zerolatency speed-preset=veryfast bitrate=2500 key-int-max=60 {encoder} ! fakesink sync=false')
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--tiles', type=int, default=9)
    ap.add_argument('--seconds', type=int, default=10)
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--orc', default='default,backup')
    ap.add_argument('--rows', default='', help='comma-separated row names (default: all)')
    ap.add_argument('--encoder-args', default='threads=1', help='extra x264enc properties')
    ap.add_argument('--dir', default='/tmp/roomcast-stages')
    ap.add_argument('--clip-size', default='640x360', help='the participants\' pictures, WxH')
    args = ap.parse_args()
    clips = make_clips(args.dir, args.seconds, args.clip_size)
    rows = pipelines(args.tiles, clips, args.encoder_args)
    wanted = [r for r in args.rows.split(',') if r] or list(rows)
    print(f'tiles={args.tiles} of {args.clip_size} media={args.seconds}s repeat={args.repeat} x264: {args.encoder_args}; '
          f'load average {os.getloadavg()[0]:.1f}')
    print('| stage | ORC | CPU s per media s (runs) | median, % of a core |')
    print('|---|---|---|---:|')
    for orc in args.orc.split(','):
        env = dict(os.environ)
        env.pop('ORC_CODE', None)
        if orc != 'default':
            env['ORC_CODE'] = orc
        for name in wanted:
            cmd = ['gst-launch-1.0', '-q'] + rows[name].split()
            runs = [run(cmd, env) / args.seconds for _ in range(args.repeat)]
            print(f'| {name} | {orc} | {", ".join(f"{r:.3f}" for r in runs)} | {statistics.median(runs) * 100:.1f} |',
                  flush=True)


if __name__ == '__main__':
    sys.exit(main())
