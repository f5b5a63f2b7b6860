#!/usr/bin/env python3
"""Resolution and frame-rate changes of a real browser never break a file: headless Chromium
(the e2e test page, its fake camera) sends CODEC (vp8, h264 or vp9: the page puts it first in
its answer, so Chromium really encodes it) and switches its camera between 1280x720 at 30 fps
and 640x360 at 15 fps every 4 s (applyConstraints, as a browser under congestion or a person
changing cameras), against a gateway recording record-mkv, record-webm and record-mp4.

usage: test_caps_change_browser.py BUILD_DIR vp8|h264|vp9

Checks: Chromium's own statistics say it sent CODEC at both sizes; for every template that takes
CODEC, one file for the whole presence (duration within 1 s), the codec sent, a keyframe first,
ffmpeg decodes it (at most 2 % of frames with macroblocks damaged by packets lost in transport,
nothing else), nearly every packet decodes to a frame, frames at both sizes with at least two
switches between them, video to the end, no hole in either track; the templates that cannot take CODEC
(record-webm for H264, record-mp4 for VP8 and VP9) are said in the log and in the manifest.
"""

import json
import os
import re
import signal
import sys
import time

import gwtest
from test_caps_change import TEMPLATES, check_continuous_file

ROOM = 'capsbrowser'
HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = os.path.join(HERE, '..', 'e2e', 'gateway', 'page')
STAY = 18
EVERY = 4
BIG, SMALL = (1280, 720), (640, 360)


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ('vp8', 'h264', 'vp9'):
        sys.exit(f'usage: {sys.argv[0]} BUILD_DIR vp8|h264|vp9')
    codec = sys.argv[2]
    gwtest.enter_netns()
    with gwtest.Harness(f'faults-caps-change-chromium-{codec}', sys.argv[1]) as h:
        f = h.failures
        h.require_browser(('ffprobe', 'ffmpeg'))
        server, port = h.start_signal(static_dir=PAGE)
        gateway = h.start_gateway(port, ROOM, pipelines=tuple(TEMPLATES))
        url = f'http://127.0.0.1:{port}/index.html?room={ROOM}&name=chromium&width={BIG[0]}&height={BIG[1]}'
        browser = h.start('browser', ['node', os.path.join(HERE, 'browser_resize.mjs'), url, str(STAY), str(EVERY),
                                      f'{BIG[0]}x{BIG[1]}', f'{SMALL[0]}x{SMALL[1]}', codec])
        f.check(h.wait_exit(browser, STAY + 90) == 0, 'the browser session ran and closed cleanly')
        h.wait_log(gateway, r'finishing participant .* \(left the room\)', 30)
        time.sleep(0.5)
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'gateway exits 0 on SIGTERM')

        # What Chromium says it sent.
        out = h.log_text(browser)
        report = next((json.loads(l) for l in out.splitlines() if l.startswith('{')), None)
        if not f.check(report is not None, 'the browser reported its statistics'):
            return
        sent = [v for s in report['samples'] for v in s['video'] if v.get('frameWidth')]
        codecs = sorted({v['codec'] for v in sent if v.get('codec')})
        sizes_sent = sorted({(v['frameWidth'], v['frameHeight']) for v in sent})
        encoders = sorted({v.get('encoderImplementation') or '?' for v in sent})
        h.say(f'Chromium sent {codecs} at {sizes_sent} (encoder {encoders}); asked {report["asked"]}')
        f.check(codecs == [f'video/{codec.upper()}'], f'Chromium sent {codec.upper()} only ({codecs})')
        f.check(BIG in sizes_sent and SMALL in sizes_sent, f'Chromium sent both sizes ({sizes_sent})')
        f.check(len(report['asked']) >= 3, f'the camera changed size {len(report["asked"])} times (>= 3)')

        log = h.log_text(gateway)
        f.check('Could not multiplex' not in log, 'no muxer refused a caps change')
        held = log.count('video caps changed mid-stream')
        f.check(f'(video/x-{codec}, now' in log, f'the gateway held back {codec.upper()} caps changes ({held})')
        finishes = re.findall(r'finishing participant \S+ \(([^)]*)\)', log)
        f.check(finishes == ['left the room'], f'the participant finished once, when it left ({finishes})')

        session = h.session_dir(ROOM)
        manifest = h.manifest(ROOM)
        people = [p for p in manifest['participants'] if p.get('name') == 'chromium']
        if not f.check(len(people) == 1, f'one presence of the browser ({len(people)})'):
            return
        who = people[0]
        entries = [x for x in manifest['files'] if x['participant'] == who['id']]
        skipped = manifest.get('skipped', [])
        for tpl, (ext, codecs_taken) in TEMPLATES.items():
            mine = [x for x in entries if x['path'].endswith('.' + ext)]
            if codec not in codecs_taken:
                f.check(not mine, f'no {ext} file ({tpl} cannot take {codec.upper()})')
                f.check(f'template {tpl} does not take {codec.upper()}' in log, f'the log says {tpl} does not take it')
                f.check(any(s.get('participant') == who['id'] and s.get('template') == tpl for s in skipped),
                        f'the manifest notes {tpl} skipped')
                continue
            if not f.check(len(mine) == 1, f'one {ext} file in the manifest ({len(mine)})'):
                continue
            entry = mine[0]
            # A browser's encoder may drop a frame it cannot finish in time: nearly every packet.
            # Transport damage is not a caps problem: with the load average at 13-16 (two cores,
            # four test runs), some runs had 1-3 H264 frames with damaged macroblocks at a switch,
            # where the gateway's jitterbuffer had declared packets lost whose retransmissions
            # came too late (seen with rtpjitterbuffer:5). Up to 2 % is reported, not failed; a
            # parameter-set mix-up would damage every frame until the next keyframe, at every
            # switch, and frames would decode at the wrong size (checked above).
            check_continuous_file(f, f'chromium {ext}', os.path.join(session, entry['path']), codec,
                                  who['left'] - entry['start'], (BIG, SMALL), 2, min_decoded=0.98,
                                  damaged_share=0.02)
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
