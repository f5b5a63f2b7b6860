#!/usr/bin/env python3
"""roomcast itself under W^X, as the unit runs it: MemoryDenyWriteExecute=yes with the unit's ORC_CODE.

The gateway runs in a process where the kernel refuses writable+executable
memory (prctl PR_SET_MDWE, inherited by every thread; the rule systemd's
MemoryDenyWriteExecute= enforces with seccomp), with ORC_CODE taken from
systemd/roomcast.service.in, and records a VP8 test peer through both its
ORC-heavy paths at once: composite-mp4 (decode, compositor, audiomixer,
videoconvert, x264, AAC) and record-mkv (passthrough). Checks that it keeps
running, exits 0 on SIGTERM, and that both files hold what they should.
Exit 77 (skip) where the kernel lacks PR_SET_MDWE (Linux < 6.3).
"""

import ctypes
import os
import re
import signal
import subprocess
import sys
import time

import opstest
from opstest import gwtest

PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1
libc = ctypes.CDLL(None, use_errno=True)


def enter_wx():
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        os._exit(77)


def main():
    gwtest.enter_netns()
    probe = subprocess.run([sys.executable, '-c', 'pass'], preexec_fn=enter_wx, timeout=30)
    if probe.returncode == 77:
        print('PR_SET_MDWE unsupported by this kernel: skipping')
        sys.exit(77)
    with gwtest.Harness('ops-roomcast-wx', gwtest.build_dir_from_args()) as h:
        f = h.failures
        with open(os.path.join(h.source_dir, 'systemd', 'roomcast.service.in')) as unit:
            m = re.search(r'^Environment=ORC_CODE=(\S+)$', unit.read(), re.M)
        if not f.check(m is not None, 'the unit sets ORC_CODE'):
            return
        server, port = h.start_signal()
        gw, _ = opstest.start_gateway(h, port, rooms=['wx'], pipelines=['composite-mp4', 'record-mkv'],
                                      extra=['--param', 'width=320', '--param', 'height=240',
                                             '--param', 'framerate=15'],
                                      env={'ORC_CODE': m.group(1)}, preexec_fn=enter_wx)
        sending = gwtest.sending_time(4)
        peer = h.start_testpeer(port, 'wx', 'wendy', 'vp8', duration=sending, pattern='ball')
        f.check(h.wait_exit(peer, gwtest.allowance(30)) == 0, f'the peer ({sending:g} s, VP8) exited 0')
        time.sleep(0.5)
        f.check(gw.poll() is None, 'roomcast still runs under W^X')
        h.kill_group(gw, signal.SIGTERM)
        code = h.wait_exit(gw, 20)
        f.check(code == 0, f'roomcast exits 0 ({code})')
        session = h.session_dir('wx')
        files = sorted(os.listdir(session))
        mp4 = [x for x in files if x.endswith('.mp4')]
        mkv = [x for x in files if x.endswith('.mkv')]
        f.check(len(mp4) == 1 and len(mkv) == 1, f'one composite and one recording ({files})')
        for name, want in [(x, ['aac', 'h264']) for x in mp4] + [(x, ['opus', 'vp8']) for x in mkv]:
            info = gwtest.probe_streams(os.path.join(session, name))
            codecs = sorted(s['codec_name'] for s in info['streams'])
            duration = float(info['format'].get('duration', 0) or 0)
            f.check(codecs == want and duration > 2.0, f'{name}: {codecs}, {duration:.1f} s')


if __name__ == '__main__':
    main()
