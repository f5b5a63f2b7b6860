#!/usr/bin/env python3
"""A participant that may only use a TURN relay is recorded: headless Chromium with
iceTransportPolicy 'relay' through Debian's coturn, started by the test on loopback with a
throwaway user, in the test's own namespace. With a wrong credential Chromium gets no relay
candidate and says why (candidate error 401), and nothing is recorded for it.

The gateway's own side, in two more rooms at the same time: a relay-only gateway
(--ice-transport-policy relay) with the right TURN credential records a test peer through the
relay; one with a wrong credential says why in its log and in the control API's participant
state (connection.reason names the TURN server, never the password).

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
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'integration', 'ops'))
import gwtest  # noqa: E402
import opstest  # noqa: E402

ROOM = 'turn'
GOOD_ROOM, BAD_ROOM = 'turn-gateway', 'turn-gateway-wrong'
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


def relay_only_gateway(h, port, turn_port, room, password, label):
    return opstest.start_gateway(h, port, rooms=(room,), pipelines=('record-mkv',), label=label,
                                 extra=['--turn-server', f'turn://{USER}:{password}@127.0.0.1:{turn_port}',
                                        '--ice-transport-policy', 'relay'])


def participant_connection(api, room):
    """The connection object of the first participant of room in the control API, or None."""
    items = api.rooms().get(room, {}).get('participants', [])
    return items[0].get('connection') if items else None


def check_gateway_side(h, f, good, bad, bad_api):
    """After both relay-only gateways had time: the good one records through its relay, the bad
    one says why in the log and the API."""
    reason, deadline = None, time.monotonic() + 60
    while time.monotonic() < deadline:
        conn = participant_connection(bad_api, BAD_ROOM)
        reason = (conn or {}).get('reason', '')
        if 'gave no relay candidate' in reason:
            break
        time.sleep(0.5)
    f.check('the TURN server 127.0.0.1:' in (reason or '') and 'gave no relay candidate' in reason
            and 'credential' in reason,
            f'a wrong TURN credential of the gateway: the API says why ({conn})')
    text = h.log_text(bad)
    f.check(re.search(r'TURN server 127\.0\.0\.1:\d+ gave no relay candidate \(wrong user or credential',
                      text) is not None, 'and the gateway logs it')
    f.check('wrong-gateway-password' not in text and 'wrong-gateway-password' not in json.dumps(conn),
            'without the password')
    f.check(re.search(r'\.mkv started', h.log_text(good)) is not None,
            'a relay-only gateway with the right credential records its participant')


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
        good, _ = relay_only_gateway(h, port, turn_port, GOOD_ROOM, PASSWORD, 'gateway-relay')
        bad, bad_api_port = relay_only_gateway(h, port, turn_port, BAD_ROOM, 'wrong-gateway-password',
                                               'gateway-wrong-turn')
        h.start_testpeer(port, GOOD_ROOM, 'relayed-peer', 'vp8')
        h.start_testpeer(port, BAD_ROOM, 'unreachable-peer', 'vp8')

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

        check_gateway_side(h, f, good, bad, opstest.Api(bad_api_port))
        turn_log = h.log_text(turn)
        f.check(len(re.findall(r'ALLOCATE processed, success', turn_log)) >= 2,
                'coturn allocated relays for the browser and the relay-only gateway')
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
