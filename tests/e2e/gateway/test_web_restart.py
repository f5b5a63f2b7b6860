#!/usr/bin/env python3
"""The real web client (web/dist) in headless Chromium, recorded by the gateway, through a
room-server restart: the client keeps its connection to the hidden recorder across the
WebSocket drop (web/src/room/roomMachine.ts, keepHidden) and rejoins by itself.

Usage: test_web_restart.py BUILD_DIR CASE, CASE one of
  restart         the room server is killed (SIGKILL) mid-call and started again on the same
                  port. The gateway re-attaches its receiver (its media still flows, on the
                  kept connection) to the client's new id by name, rechecks it a second later
                  (media still flowing) and makes no offer. Checked: ONE file, one connection
                  made in the whole visit, no hole over 1 s across the restart, recorded to
                  the hang-up;
  outage-restart  UDP (and TCP but signaling) dropped for 10 s, and 5 s into it the room server
                  is killed and started again: the gateway re-attaches its away receiver to the
                  client's new id by name and makes no offer; the client's kept connection comes
                  back with the network. Checked: ONE file, one connection made in the whole
                  visit, video after the outage, no hole but the outage's.
Both: the client opened a new WebSocket by itself and kept the recorder's connection; never more
than two connections open in the page, one at the end of the visit, none after the hang-up; the
gateway sees the member leave and finishes every file it started.
"""

import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'integration', 'gateway'))
import gwtest  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'faults'))
import netfault  # noqa: E402

ROOM = 'webrestart'
NAME = 'webclient'
STAY_SECONDS = {'restart': 24, 'outage-restart': 30}
OUTAGE = 10
RESTART_AT = 5  # seconds into the outage
HERE = os.path.dirname(os.path.abspath(__file__))


def browser_report(h, browser):
    for line in reversed(h.log_text(browser).splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    return None


def restart_server(h, f, server, port, gateway, web):
    """Kills the room server, starts it again on the same port 1 s later, waits for the
    gateway's rejoin; returns the new server process."""
    mark = len(h.log_text(gateway))
    h.say('killing the room server')
    server.send_signal(signal.SIGKILL)
    h.wait_exit(server, 10)
    time.sleep(1)
    server, port2 = h.start_signal(port, static_dir=web)
    f.check(port2 == port, 'room server back on the same port')
    h.wait_log(gateway, r'rejoined as hidden member', 20, after=mark)
    h.say('gateway rejoined')
    return server


def outage_start(port):
    """UDP dropped, and TCP but the room server's (no ICE-TCP detour round the outage)."""
    netfault.outage()
    for direction in ('dport', 'sport'):
        netfault._nft('add', 'rule', 'inet', netfault.TABLE, 'out', 'tcp', direction, str(port), 'accept')
    netfault._nft('add', 'rule', 'inet', netfault.TABLE, 'out', 'meta', 'l4proto', 'tcp', 'drop')


def check_page(h, f, case, report):
    if not f.check(report is not None, 'the browser reported its state'):
        return
    f.check(len(report['sockets']) >= 2, f'the client reconnected by itself ({len(report["sockets"])} sockets)')
    kept = [c for c in report['console'] if 'kept the connection to hidden member' in c]
    f.check(len(kept) >= 1, f'the client kept its connection to the recorder ({kept})')
    closed = [c for c in report['console'] if 'closed kept connection' in c]
    samples = report['samples']
    last = samples[-1]
    h.say(f'last sample before the hang-up: {json.dumps(last)}; after: {json.dumps(report["afterLeave"])}')
    f.check(last['open'] == 1, f'one connection open at the end of the visit ({last["open"]})')
    most = max(s['open'] for s in samples)
    f.check(most <= 2, f'never more than two connections open ({most})')
    after = report['afterLeave']
    f.check(after['open'] == 0, f'no connection left open after the hang-up ({after["open"]} of {after["made"]} made)')
    f.check(not closed, f'the kept connection stayed ({closed})')
    f.check(last['made'] == 1, f'one connection made in the whole visit ({last["made"]})')


def main():
    case = sys.argv[2] if len(sys.argv) > 2 else 'restart'
    if case not in STAY_SECONDS:
        sys.exit(f'unknown case {case}')
    stay = STAY_SECONDS[case]
    gwtest.enter_netns()
    with gwtest.Harness(f'gateway-web-{case}', gwtest.build_dir_from_args()) as h:
        f = h.failures
        h.require_browser(('ffprobe',) + (('nft',) if case == 'outage-restart' else ()))
        web = os.path.join(h.source_dir, 'web', 'dist')
        if not os.path.isfile(os.path.join(web, 'index.html')):
            print('skip: missing web/dist (npm run build in web/)', file=sys.stderr)
            sys.exit(gwtest.SKIP)
        server, port = h.start_signal(static_dir=web)
        gateway = h.start_gateway(port, ROOM)
        t0 = time.monotonic()
        browser = h.start('browser', ['node', os.path.join(HERE, 'web_restart_member.mjs'),
                                      f'http://127.0.0.1:{port}/', ROOM, NAME, str(stay)])
        h.wait_log(gateway, r'\.mkv started', 45)
        recording_at = time.monotonic() - t0
        h.say('recording')
        time.sleep(4)
        if case == 'restart':
            server = restart_server(h, f, server, port, gateway, web)
        else:
            outage_start(port)
            fault_start = time.monotonic() - t0
            h.say(f'outage (UDP, and TCP but signaling) for {OUTAGE} s')
            time.sleep(RESTART_AT)
            server = restart_server(h, f, server, port, gateway, web)
            time.sleep(max(0.0, fault_start + OUTAGE - (time.monotonic() - t0)))
            netfault.clear()
            h.say('network back')

        f.check(h.wait_exit(browser, stay + 90) == 0, 'the web client ran its visit and hung up')
        check_page(h, f, case, browser_report(h, browser))
        # The hang-up: the gateway sees the member leave and finishes its files; then stop it.
        deadline = time.monotonic() + 30
        log = h.log_text(gateway)
        while time.monotonic() < deadline and log.count('.mkv finished') < log.count('.mkv started'):
            time.sleep(0.5)
            log = h.log_text(gateway)
        f.check(log.count('.mkv started') == log.count('.mkv finished'),
                f'every file the gateway started is finished after the hang-up ({log.count(".mkv started")} '
                f'started, {log.count(".mkv finished")} finished)')
        finishes = re.findall(r'finishing participant \S+ \(([^)]*)\)', log)
        h.say(f'finishing reasons: {finishes}')
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'gateway exits 0 on SIGTERM')
        server.send_signal(signal.SIGTERM)

        manifest = h.manifest(ROOM)
        ids = {p['id'] for p in manifest['participants'] if p.get('name') == NAME}
        files = sorted((x for x in manifest['files'] if x['participant'] in ids), key=lambda x: x['start'])
        h.say(f'files: {json.dumps(files)}')
        if not f.check(len(files) == 1, f'one file for {NAME} across the {case} ({len(files)})'):
            return
        spans = []
        for entry in files:
            path = os.path.join(h.session_dir(ROOM), entry['path'])
            info, vpk, apk = gwtest.check_recording(f, path, 'vp8')
            gap = gwtest.largest_gap(vpk)
            end = gwtest.media_end(vpk)
            spans.append((entry['start'], entry['start'] + end))
            h.say(f'{entry["path"]}: video {entry["start"]:.2f} -> {entry["start"] + end:.2f} s (session time), '
                  f'largest video gap {gap:.2f} s, audio gap {gwtest.largest_gap(apk):.2f} s')
            if case == 'restart':
                f.check(gap < 1.0, f'{entry["path"]}: no video hole over 1 s ({gap:.2f} s)')
            else:
                f.check(gap < OUTAGE + 5, f'{entry["path"]}: no video hole but the outage ({gap:.2f} s)')
                late = [p for p in vpk if p['pts'] >= end - 5]
                f.check(len(late) > 50, f'{entry["path"]}: video after the outage ({len(late)} frames in the last 5 s)')
        for (a_start, a_end), (b_start, b_end) in zip(spans, spans[1:]):
            f.check(a_end >= b_start - 1.0, f'no hole over 1 s between the files ({a_end:.2f} -> {b_start:.2f})')
            f.check(a_end <= b_start + 8, f'the first file ends soon after the second starts ({a_end:.2f}, {b_start:.2f})')
        # The file starts with the first media; the browser hung up `stay` s after it started.
        recorded_to = spans[-1][1] - spans[0][0]
        f.check(recorded_to >= stay - recording_at - 2,
                f'recorded to the hang-up ({recorded_to:.2f} s from the first media; recording began '
                f'{recording_at:.1f} s after the browser started, which stayed {stay} s after joining)')


if __name__ == '__main__':
    main()
