#!/usr/bin/env python3
"""Resolution changes never break a restream: an H264 test peer switching 1280x720 <-> 640x360
every 3 s for 12 s through rtmp-passthrough (h264parse ! flvmux) to a local nginx-rtmp.

Checks what the server recorded: one publish (no restart of the output), ffmpeg decodes every
packet without a decoder error, frames at both sizes with at least two switches, and it lasts
most of the participant's presence.
"""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration', 'restream'))

import gwtest  # noqa: E402
import rtmp_fixture  # noqa: E402

ROOM = 'capsrtmp'
SECONDS = 12
BIG, SMALL = (1280, 720), (640, 360)


def main():
    gwtest.enter_netns()
    with gwtest.Harness('faults-caps-change-rtmp', gwtest.build_dir_from_args()) as h:
        f = h.failures
        nginx = rtmp_fixture.NginxRtmp(h.dir, harness=h).start()
        server, port = h.start_signal()
        gateway = h.start_gateway(port, ROOM, pipelines=('rtmp-passthrough',),
                                  extra=['--rtmp-url', f'rtmp://127.0.0.1:{nginx.port}/live'])
        peer = h.start('peer', [h.bin('testpeer/roomcast-testpeer'), '--signaling-url', f'ws://127.0.0.1:{port}/ws',
                                '--room', ROOM, '--name', 'carol', '--codec', 'h264', '--duration', str(SECONDS),
                                '--pattern', 'ball', '--width', str(BIG[0]), '--height', str(BIG[1]),
                                '--resize-every', '3', '--resize-to', f'{SMALL[0]}x{SMALL[1]}',
                                '--ice-local-address', '127.0.0.1'])
        f.check(h.wait_exit(peer, SECONDS + 40) == 0, 'carol (H264, resizing) exited 0')
        h.wait_log(gateway, r'finishing participant .* \(left', 15)
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'gateway exits 0 on SIGTERM')
        recs = nginx.recordings()
        f.check(len(recs) == 1, f'one publish, never restarted: {[os.path.basename(r) for r in recs]}')
        for rec in recs[:1]:
            out = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-i', rec, '-map', '0:v', '-f', 'null', '-'],
                                 capture_output=True, text=True, timeout=120)
            errors = [l for l in out.stderr.splitlines()
                      if l.strip() and not l.startswith('[null @') and 'Last message repeated' not in l]
            f.check(out.returncode == 0 and not errors, f'ffmpeg decodes the restream without an error {errors[:3]!r}')
            sizes = gwtest.probe_frame_sizes(rec)
            packets = gwtest.probe_packets(rec, 'v')
            f.check(len(sizes) == len(packets), f'every packet decodes to a frame ({len(sizes)}/{len(packets)})')
            f.check(BIG in set(sizes) and SMALL in set(sizes), f'frames at both sizes {sorted(set(sizes))}')
            n = sum(1 for a, b in zip(sizes, sizes[1:]) if a != b)
            f.check(n >= 2, f'{n} size switches across {len(sizes)} frames')
            duration = gwtest.media_end(packets)
            f.check(duration >= SECONDS - 4, f'the restream lasts {duration:.2f} s of {SECONDS} s')
        nginx.stop()
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
