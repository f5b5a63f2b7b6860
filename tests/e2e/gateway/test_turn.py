#!/usr/bin/env python3
"""A participant that may only use a TURN relay is recorded: headless Chromium with
iceTransportPolicy 'relay' through Debian's coturn, started by the test on loopback with a
throwaway user, in the test's own namespace. With a wrong credential Chromium gets no relay
candidate and says why (candidate error 401), and nothing is recorded for it.

Usage: test_turn.py BUILD_DIR
"""

import json
import os
import re
import shutil
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'integration', 'gateway'))
import gwtest  # noqa: E402

ROOM = 'turn'
HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = os.path.join(HERE, 'page')
USER, PASSWORD = 'roomcast', 'throwaway-turn-secret'
STAY = 8


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_turn(h):
    port = free_port()
    argv = ['turnserver', '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1',
            f'--listening-port={port}', '--min-port=49152', '--max-port=49999',
            '--lt-cred-mech', f'--user={USER}:{PASSWORD}', '--realm=roomcast.test',
            # The participants and the gateway are all on loopback in this namespace.
            '--allow-loopback-peers', '--no-multicast-peers', '--no-cli', '--no-tls', '--no-dtls',
            '--fingerprint', '--simple-log', '--log-file=stdout', f'--pidfile={h.dir}/turn.pid',
            # Its own user database in the test's folder, not /var/lib/turn; -v logs allocations.
            f'--userdb={h.dir}/turndb', '-v']
    p = h.start('turnserver', argv)
    h.wait_log(p, r'(?i)listener opened on|relay 127\.0\.0\.1', 10)
    return p, port


def browser(h, port, turn_port, label, password, seconds):
    url = (f'http://127.0.0.1:{port}/index.html?room={ROOM}&name={label}&width=640&height=360'
           f'&turn=turn:127.0.0.1:{turn_port}?transport=udp&turnUser={USER}&turnPass={password}&relay=1')
    return h.start(f'browser-{label}', ['node', os.path.join(HERE, 'browser_peer.mjs'), url, str(seconds)])


def report_of(h, p):
    for line in reversed(h.log_text(p).splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    return None


def main():
    gwtest.enter_netns()
    with gwtest.Harness('gateway-browser-turn', gwtest.build_dir_from_args()) as h:
        f = h.failures
        missing = [t for t in ('node', 'turnserver', 'ffprobe') if not shutil.which(t)]
        if missing:
            print(f'skip: missing {missing} (scripts/setup.sh installs coturn)', file=sys.stderr)
            sys.exit(gwtest.SKIP)
        turn, turn_port = start_turn(h)
        server, port = h.start_signal(static_dir=PAGE)
        gateway = h.start_gateway(port, ROOM)

        relayed = browser(h, port, turn_port, 'relayed', PASSWORD, STAY)
        f.check(h.wait_exit(relayed, STAY + 90) == 0, 'the relay-only browser connected and stayed')
        report = report_of(h, relayed)
        types = [s.get('localCandidateType') for sample in (report or {}).get('samples', [])[-3:]
                 for s in sample if 'localCandidateType' in s]
        f.check(bool(types) and all(t == 'relay' for t in types),
                f'its selected candidate pair is relayed through TURN ({types})')
        turn_log = h.log_text(turn)
        f.check(re.search(r'(?i)allocation.*(success|created)|ALLOCATE processed, success', turn_log) is not None,
                'coturn allocated a relay for it')

        wrong = browser(h, port, turn_port, 'wrongpass', 'not-the-password', 3)
        code = h.wait_exit(wrong, 90)
        text = h.log_text(wrong)
        f.check(code != 0, f'with a wrong TURN password the relay-only browser cannot connect (exit {code})')
        f.check(re.search(r'candidate error .*401', text) is not None,
                'and Chromium says why: a 401 from the TURN server')

        time.sleep(1)
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'the gateway exits 0')
        manifest = h.manifest(ROOM)
        names = {p['id']: p.get('name') for p in manifest['participants']}
        relayed_files = [x for x in manifest['files'] if names.get(x['participant']) == 'relayed' and x.get('finished')]
        if f.check(len(relayed_files) == 1, f'one recording of the relayed browser ({len(relayed_files)})'):
            path = os.path.join(h.session_dir(ROOM), relayed_files[0]['path'])
            info, vpk, apk = gwtest.check_recording(f, path, 'vp8')
            f.check(len(vpk) >= 20 * (STAY - 3), f'with video throughout ({len(vpk)} frames)')
        wrong_files = [x for x in manifest['files'] if names.get(x['participant']) == 'wrongpass' and x.get('bytes')]
        f.check(not wrong_files, f'nothing recorded for the browser that had no relay ({wrong_files})')


if __name__ == '__main__':
    main()
