#!/usr/bin/env python3
"""kill -9 of the gateway mid-recording: the record-mkv and record-mp4 files of an H264 participant still play.

Checks that each file decodes, starts with a keyframe, and holds media up
to at least (kill time - 1.5 s) on the file's own clock.
"""

import datetime
import os
import signal
import time

import gwtest

ROOM = 'crash'
RECORD_SECONDS = 5


def session_start(manifest):
    text = manifest['session_start'].replace('Z', '+00:00')
    return datetime.datetime.fromisoformat(text).timestamp()


def main():
    gwtest.enter_netns()
    with gwtest.Harness('gateway-crash', gwtest.build_dir_from_args()) as h:
        f = h.failures
        server, port = h.start_signal()
        gateway = h.start_gateway(port, ROOM, pipelines=('record-mkv', 'record-mp4'))
        peer = h.start_testpeer(port, ROOM, 'carol', 'h264', duration=0, pattern='ball', width=1280, height=720)
        h.wait_log(gateway, r'\.mkv started', 20)
        h.wait_log(gateway, r'\.mp4 started', 20)
        time.sleep(RECORD_SECONDS)
        killed_at = time.time()
        h.kill_group(gateway, signal.SIGKILL)
        h.wait_exit(gateway, 5)
        h.say('gateway killed')

        manifest = h.manifest(ROOM)
        entries = {os.path.splitext(x['path'])[1]: x for x in manifest['files']}
        f.check(set(entries) == {'.mkv', '.mp4'}, f'manifest lists an mkv and an mp4: {sorted(entries)}')
        for ext, codec in (('.mkv', 'h264'), ('.mp4', 'h264')):
            entry = entries.get(ext)
            if not entry:
                continue
            path = os.path.join(h.session_dir(ROOM), entry['path'])
            # What the file should hold: from its first buffer to the kill.
            expected = killed_at - session_start(manifest) - entry['start']
            ok, errors = gwtest.decodes(path)
            f.check(ok, f'{ext}: decodes after kill -9 ({errors or "no errors"})')
            info, vpk, apk = gwtest.check_recording(f, path, codec)
            end = min(gwtest.media_end(vpk), gwtest.media_end(apk))
            f.check(end >= expected - 1.5,
                    f'{ext}: media up to {end:.2f} s, killed {expected:.2f} s into the file (>= {expected - 1.5:.2f})')
            f.check(gwtest.largest_gap(vpk) < gwtest.allowance(0.5), f'{ext}: no video gap ({gwtest.largest_gap(vpk):.2f} s)')
        peer.send_signal(signal.SIGTERM)
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
