#!/usr/bin/env python3
"""Many WHEP viewers of one room (issue #14 item 1) with light viewers of our own (whep-viewer:
receive-only webrtcbins in one process, H.264 frames counted after depayloading, no decoding),
so that the viewers' own cost does not hide the gateway's on a loaded 2-core machine.

Usage: test_whep_viewers.py BUILD_DIR CASE, CASE one of
  twenty      20 viewers of one room all keep receiving video for 15 s: frames counted at the
              start and at the end of the window for every viewer; meanwhile a 21st viewer
              (its own process) freezes (SIGSTOP), which must not hold the others back;
  pli-storm   20 viewers each asking for a keyframe (RTCP PLI) every 50 ms: they all keep
              receiving, and the room forces at most one keyframe a second for all of them
              (its debug log), not one per request;
  (both with 4 viewers in the sanitizer pass, which a sanitized gateway cannot serve 20 of)
  cpu         (a bench, not registered) the gateway's CPU (utime+stime over 15 s) with 1 and
              with 20 viewers, RUNS times each (env WHEP_CPU_RUNS, default 3): medians, ratio.
"""

import http.client
import json
import os
import re
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402
import whep_support  # noqa: E402
from whep_support import process_cpu_seconds  # noqa: E402

ROOM = 'whepmany'
TOKEN = 'whep-many-api-token-for-tests'
WINDOW = 15  # seconds every viewer must keep receiving
# Generous floor for a loaded 2-core machine: the composite runs at 30 fps; a viewer that
# receives 5 frames a second over the window is alive (a stalled one gets none).
MIN_FPS = 5 / gwtest.TIMING_SLACK
# The number of viewers: 20, except in the sanitizer pass (tests/sanitizers/run.sh), where a
# sanitized gateway cannot serve 20 in real time; 4 there still run every viewer's life (join,
# frozen neighbour, keyframe requests, leave) under ASan and UBSan.
VIEWERS = 20 if gwtest.TIMING_SLACK <= 1 else 4


def start(h):
    with open(os.path.join(h.dir, 'api-token'), 'w') as f:
        f.write(TOKEN + '\n')
    server, port = h.start_signal()
    gateway = h.start_gateway(port, ROOM, extra=(
        '--api-listen', '127.0.0.1:0', '--api-token-file', os.path.join(h.dir, 'api-token')))
    api = int(h.wait_log(gateway, r'control API listening on 127\.0\.0\.1:(\d+)', 10).group(1))
    peers = [h.start_testpeer(port, ROOM, 'smpte', 'vp8'),
             h.start_testpeer(port, ROOM, 'ball', 'vp8', pattern='ball')]
    first = h.wait_log(gateway, r'\.mkv started', 60)
    h.wait_log(gateway, r'\.mkv started', 60, after=first.end())
    return server, gateway, api, peers


def viewers(h, api, n, seconds, label, pli_ms=0):
    argv = [h.bin('tests/integration/gateway/whep-viewer'), '--url', f'http://127.0.0.1:{api}/whep/{ROOM}',
            '--token', TOKEN, '--viewers', str(n), '--seconds', str(seconds)]
    if pli_ms:
        argv += ['--pli-ms', str(pli_ms)]
    return h.start(label, argv)


def samples(h, p):
    """The per-second {"sample": k, "frames": [...]} lines printed so far."""
    out = []
    for line in h.log_text(p).splitlines():
        if line.startswith('{"sample"'):
            out.append(json.loads(line))
    return out


def report(h, p):
    for line in reversed(h.log_text(p).splitlines()):
        if line.startswith('{"viewers"'):
            return json.loads(line)
    return None


def wait_window(h, p, n, timeout):
    """Index of the first sample where all n viewers have frames: the window's start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for i, s in enumerate(samples(h, p)):
            if len(s['frames']) == n and all(x > 0 for x in s['frames']):
                return i
        if p.poll() is not None:
            break
        time.sleep(0.2)
    return None


def check_window(h, f, rep, first, n, what):
    """Every viewer's frames (and keyframes) at the start and at the end of the window."""
    if not f.check(rep is not None and len(rep['viewers']) == n, f'{what}: the viewers reported ({n})'):
        return []
    vs = rep['viewers']
    f.check(all(v['status'] == 201 for v in vs), f'{what}: every POST got 201 ({[v["status"] for v in vs]})')
    end = first + WINDOW
    if not f.check(all(len(v['frames']) > end for v in vs), f'{what}: samples cover the {WINDOW} s window'):
        return []
    deltas = [v['frames'][end] - v['frames'][first] for v in vs]
    keys = [v['keyframes'][end] - v['keyframes'][first] for v in vs]
    h.say(f'{what}: frames per viewer over {WINDOW} s: {deltas}')
    h.say(f'{what}: keyframes per viewer over {WINDOW} s: {keys}')
    f.check(min(deltas) >= MIN_FPS * WINDOW,
            f'{what}: every viewer kept receiving video (min {min(deltas)} frames in {WINDOW} s, '
            f'want >= {MIN_FPS * WINDOW})')
    # Inside the window too: no viewer stalls and recovers (3 s: a loaded machine can pause
    # the composite or the sampler for a second).
    stalls = [(v['index'], k) for v in vs for k in range(first, end - 2) if v['frames'][k + 3] == v['frames'][k]]
    f.check(not stalls, f'{what}: no viewer went 3 s without a frame ({stalls[:10]})')
    f.check(all(v['deleted'] == 200 for v in vs), f'{what}: every DELETE got 200')
    # The room's Opus too (the viewers offer it bundle-only, on port 0, as webrtcbin does): at
    # 50 packets a second, a few seconds' worth at least.
    audio = [v.get('audio', 0) for v in vs]
    f.check(min(audio) >= 50 * WINDOW / 4 / gwtest.TIMING_SLACK, f'{what}: every viewer received the room\'s audio ({audio})')
    return keys


def case_twenty(h, f, gateway, api, peers):
    # The 21st viewer first, in its own process: frozen during the window.
    frozen = viewers(h, api, 1, 120, 'viewer-frozen')
    m = h.wait_log(frozen, r'viewer 0 status (\d+)', 60)
    f.check(m.group(1) == '201', f'the frozen viewer was answered ({m.group(1)})')
    location = h.wait_log(frozen, r'viewer 0 location (\S+)', 5).group(1)
    many = viewers(h, api, VIEWERS, WINDOW + 15, f'viewers-{VIEWERS}')
    first = wait_window(h, many, VIEWERS, 120)
    if not f.check(first is not None, f'all {VIEWERS} viewers received video'):
        return
    os.kill(frozen.pid, signal.SIGSTOP)
    h.say('the 21st viewer is frozen (SIGSTOP)')
    f.check(h.wait_exit(many, WINDOW + 120) == 0, f'the {VIEWERS} viewers ran and closed cleanly')
    check_window(h, f, report(h, many), first, VIEWERS, f'{VIEWERS} viewers')
    h.kill_group(frozen)
    status = delete_session(api, location)
    f.check(status == 200, f'the frozen viewer\'s session ends by DELETE ({status})')
    h.wait_log(gateway, r'whep: encoder stopped: the last viewer left', 20)
    f.check(True, 'the encoder stopped with the last viewer')


def delete_session(api, location):
    conn = http.client.HTTPConnection('127.0.0.1', api, timeout=20)
    try:
        conn.request('DELETE', location, headers={'Authorization': f'Bearer {TOKEN}'})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def case_pli_storm(h, f, gateway, api, peers):
    mark = len(h.log_text(gateway))
    t0 = time.monotonic()
    many = viewers(h, api, VIEWERS, WINDOW + 15, 'viewers-pli', pli_ms=50)
    first = wait_window(h, many, VIEWERS, 120)
    if not f.check(first is not None, f'all {VIEWERS} viewers received video'):
        return
    f.check(h.wait_exit(many, WINDOW + 120) == 0, f'the {VIEWERS} viewers ran and closed cleanly')
    elapsed = time.monotonic() - t0
    keys = check_window(h, f, report(h, many), first, VIEWERS, 'PLI storm')
    # 400 requests a second arrive; the room forces one keyframe a second at most (its debug
    # log names each), and does force them.
    forced = re.findall(r'whep: keyframe forced for (\d+) request', h.log_text(gateway)[mark:])
    requests = sum(int(n) for n in forced)
    h.say(f'PLI storm: {len(forced)} keyframes forced for {requests} requests in {elapsed:.0f} s')
    f.check(len(forced) <= elapsed + 2,
            f'at most one forced keyframe a second ({len(forced)} in {elapsed:.0f} s)')
    f.check(len(forced) >= elapsed / 2 / gwtest.TIMING_SLACK and requests > 10 * len(forced),
            f'the requests were answered by shared keyframes ({len(forced)} for {requests} requests)')
    if keys:
        # What the viewers got: the regular keyframes plus the forced ones, not one per request
        # (without the limiter every frame was one).
        f.check(max(keys) <= 3 * WINDOW,
                f'the viewers got few keyframes (max {max(keys)} in {WINDOW} s, want <= {3 * WINDOW})')



def case_cpu(h, f, gateway, api, peers):
    runs = int(os.environ.get('WHEP_CPU_RUNS', '3'))
    results = {0: [], 1: [], 20: []}
    viewer_cpu = {1: [], 20: []}
    loads = []
    for run in range(runs):
        for n in (0, 1, 20):
            p = None
            mark = len(h.log_text(gateway))
            if n:
                p = viewers(h, api, n, 40, f'cpu-{n}-{run}')
                first = wait_window(h, p, n, 120)
                if not f.check(first is not None, f'run {run}: {n} viewer(s) receive video'):
                    return
            time.sleep(3)
            c0, t0 = process_cpu_seconds(gateway.pid), time.monotonic()
            v0 = process_cpu_seconds(p.pid) if p else 0
            time.sleep(15)
            c1, t1 = process_cpu_seconds(gateway.pid), time.monotonic()
            v1 = process_cpu_seconds(p.pid) if p else 0
            results[n].append(100 * (c1 - c0) / (t1 - t0))
            loads.append(os.getloadavg()[0])
            if p:
                viewer_cpu[n].append(100 * (v1 - v0) / (t1 - t0))
                f.check(h.wait_exit(p, 120) == 0, f'run {run}: {n} viewer(s) closed cleanly')
                rep = report(h, p)
                ok = rep and all(v['frames'][-1] > v['frames'][first] for v in rep['viewers'])
                f.check(bool(ok), f'run {run}: all {n} viewer(s) kept receiving')
                if rep:
                    span = len(rep['viewers'][0]['frames']) - 1 - first
                    fps = [(v['frames'][-1] - v['frames'][first]) / span for v in rep['viewers']]
                    kps = [(v['keyframes'][-1] - v['keyframes'][first]) / span for v in rep['viewers']]
                    h.say(f'run {run}: {n} viewer(s): frames/s per viewer {min(fps):.1f}-{max(fps):.1f}, '
                          f'keyframes/s {min(kps):.2f}-{max(kps):.2f}')
            h.say(f'run {run}: {n} viewer(s): gateway CPU {results[n][-1]:.1f} % of one core, viewer process '
                  f'{viewer_cpu[n][-1] if n else 0:.1f} % (load {loads[-1]:.1f})')
            if n:
                h.wait_log(gateway, r'whep: encoder stopped: the last viewer left', 30, after=mark)
            time.sleep(2)
    med = {n: statistics.median(v) for n, v in results.items()}
    h.say('RESULT whep-cpu gateway runs ' + json.dumps(results))
    h.say('RESULT whep-cpu viewer-process runs ' + json.dumps(viewer_cpu))
    h.say(f'RESULT whep-cpu medians: 0 viewers {med[0]:.1f} %, 1 viewer {med[1]:.1f} %, 20 viewers '
          f'{med[20]:.1f} %; 20/1 = {med[20] / med[1]:.2f}; load average {min(loads):.1f}-{max(loads):.1f}')


def main():
    case = sys.argv[2] if len(sys.argv) > 2 else 'twenty'
    gwtest.enter_netns()
    with gwtest.Harness(f'gateway-whep-viewers-{case}', gwtest.build_dir_from_args()) as h:
        f = h.failures
        server, gateway, api, peers = start(h)
        {'twenty': case_twenty, 'pli-storm': case_pli_storm, 'cpu': case_cpu}[case](h, f, gateway, api, peers)
        whep_support.finish(h, f, server, gateway, peers)


if __name__ == '__main__':
    main()
