#!/usr/bin/env python3
"""The gateway records a real headless Chromium (Debian's, driven by the web client's playwright-core).

Usage: test_browser.py BUILD_DIR CASE, CASE one of
  detail   a noisy 1280x720@30 y4m as the camera: VP8 + Opus, keyframe first,
           duration, >= 1280x720 and >= 1.5 Mbit/s of video after the first 5 s;
  fakecam  Chromium's own fake camera: still recorded at 1280x720;
  restart  the room server restarts mid-recording: the browser keeps its
           peer connection, the gateway rejoins, and the recording has no gap.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'integration', 'gateway'))
import gwtest  # noqa: E402

ROOM = 'e2e'
STAY_SECONDS = 12
HERE = os.path.dirname(os.path.abspath(__file__))


def make_camera(h):
    """A detailed, noisy 1280x720@30 clip: an encoder needs real bits for it."""
    path = os.path.join(h.dir, 'camera.y4m')
    subprocess.run(['ffmpeg', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
                    'testsrc2=size=1280x720:rate=30', '-vf', 'noise=alls=40:allf=t', '-t', '10',
                    '-pix_fmt', 'yuv420p', path], check=True, timeout=120)
    return path


def start_browser(h, port, seconds, camera=None):
    url = f'http://127.0.0.1:{port}/index.html?room={ROOM}&name=chromium'
    argv = ['node', os.path.join(HERE, 'browser_peer.mjs'), url, str(seconds)]
    if camera:
        argv.append(camera)
    return h.start('browser', argv)


def browser_report(h, browser):
    for line in reversed(h.log_text(browser).splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    return None


def recording_of(h, f, manifest, name='chromium'):
    people = [p for p in manifest['participants'] if p.get('name') == name]
    files = [x for x in manifest['files'] if x['participant'] in {p['id'] for p in people}]
    f.check(len(files) >= 1, f'a recording of {name} in the manifest ({len(files)})')
    files.sort(key=lambda x: x['start'])
    return people, files


def main():
    case = sys.argv[2] if len(sys.argv) > 2 else 'detail'
    gwtest.enter_netns()
    with gwtest.Harness(f'gateway-browser-{case}', gwtest.build_dir_from_args()) as h:
        f = h.failures
        h.require_browser(('ffmpeg', 'ffprobe'))
        camera = make_camera(h) if case == 'detail' else None
        server, port = h.start_signal(static_dir=os.path.join(HERE, 'page'))
        gateway = h.start_gateway(port, ROOM)
        browser = start_browser(h, port, STAY_SECONDS, camera)
        h.wait_log(gateway, r'\.mkv started', 45)
        h.say('recording')
        if case == 'restart':
            time.sleep(4)
            h.say('restarting the room server')
            mark = len(h.log_text(gateway))
            server.send_signal(signal.SIGTERM)
            h.wait_exit(server, 10)
            time.sleep(0.5)
            server, port2 = h.start_signal(port, static_dir=os.path.join(HERE, 'page'))
            f.check(port2 == port, 'room server back on the same port')
            h.wait_log(gateway, r'rejoined as hidden member', 20, after=mark)
            h.say('gateway rejoined')
        f.check(h.wait_exit(browser, STAY_SECONDS + 60) == 0, 'browser session ran and closed cleanly')
        report = browser_report(h, browser)
        if report and report.get('samples'):
            h.say(f'browser outbound video, last sample: {json.dumps(report["samples"][-1])}')
        # The browser's tab closed: the gateway finishes its files; then stop it.
        h.wait_log(gateway, r'\.mkv finished', 20)
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'gateway exits 0 on SIGTERM')

        manifest = h.manifest(ROOM)
        people, files = recording_of(h, f, manifest)
        if not files:
            return
        entry = files[0]
        path = os.path.join(h.session_dir(ROOM), entry['path'])
        info, vpk, apk = gwtest.check_recording(f, path, 'vp8')
        duration = float(info['format'].get('duration', 0))
        who = next(p for p in people if p['id'] == entry['participant'])
        if case == 'restart':
            # Left is when its signaling went away; the media ran on until the tab closed.
            end = gwtest.media_end(vpk)
            f.check(gwtest.largest_gap(vpk) < 0.5, f'no video gap across the restart ({gwtest.largest_gap(vpk):.2f} s)')
            f.check(gwtest.largest_gap(apk) < 0.5, f'no audio gap across the restart ({gwtest.largest_gap(apk):.2f} s)')
            f.check(end >= STAY_SECONDS - 1.0, f'the first recording spans the whole visit ({end:.2f} s)')
            log = h.log_text(gateway)
            f.check(log.count('joined as hidden member') >= 1 and 'rejoined as hidden member' in log,
                    'gateway log shows the second welcome')
        else:
            present = (who.get('left') or 0) - entry['start']
            f.check(abs(duration - present) <= 0.5,
                    f'file lasts {duration:.2f} s, present {present:.2f} s (from first media to leave)')
            sizes = gwtest.probe_frame_sizes(path, start=5.0)
            if f.check(bool(sizes), f'decoded {len(sizes)} video frames after 5 s'):
                w = min(s[0] for s in sizes)
                hh = min(s[1] for s in sizes)
                f.check(w >= 1280 and hh >= 720, f'every frame after 5 s is at least 1280x720 (smallest {w}x{hh})')
            if case == 'detail':
                late = [p for p in vpk if p['pts'] >= 5.0]
                span = gwtest.media_end(late) - 5.0
                kbps = sum(p['size'] for p in late) * 8 / span / 1000 if span > 0 else 0
                h.say(f'video after 5 s: {kbps:.0f} kbit/s over {span:.1f} s, {len(late)} frames '
                      f'({len(late) / span if span > 0 else 0:.1f} fps)')
                f.check(kbps >= 1500, f'video bitrate after 5 s is {kbps:.0f} kbit/s (>= 1500)')
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
