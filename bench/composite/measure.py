#!/usr/bin/env python3
"""Composite and passthrough restream benchmark: the gateway's CPU per scenario, against a same-run record-mkv baseline.

Run through run.sh (as root: it needs `unshare -n`). Inside a loopback-only
network namespace it starts the room server, an nginx RTMP server (the
restream tests' fixture) and, per scenario, one gateway and N test peers:

  baseline-4     record-mkv, 4 peers (2 VP8 + 2 H264)       the receive + record cost
  composite-4    rtmp: a 1280x720@30 composite of the same 4 peers, x264 + AAC to nginx
  composite-empty       the same composite once its one participant left (black and silence): its fixed cost
  composite-4-service   the same with ORC_CODE=backup,emulate, as the systemd unit runs it
  baseline-h264  record-mkv, N H264 peers
  passthrough    rtmp-passthrough, the same N H264 peers (H264 copied, Opus -> AAC)
  passthrough-stereo    the same with peers coding stereo Opus (stereo AAC)
  passthrough-rtmpsink  an experiment, not a shipped choice: rtmp-passthrough with librtmp's
                 rtmpsink (writes from flvmux's thread) in place of rtmp2sink (a connection
                 thread per stream), in a pipelines folder made from the shipped one

The peers code mono Opus declared as stereo, as browsers send it (--peer-audio-channels 2
for stereo; until 2026-12-05 they sent stereo).

Only the gateway process is measured: utime+stime from /proc/PID/stat over
a window that starts once every peer's video reached it and the output was
publishing, plus a warm-up. The gateway is pinned to one CPU and everything
else (room server, nginx, test peers, this script) to the other, so the
peers' encoders do not take the gateway's time. The composite's delivered
frame rate is read back from nginx's recording of the window.
"""

import argparse
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration', 'gateway'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration', 'restream'))

import gwtest  # noqa: E402
import rtmp_fixture  # noqa: E402

CLK_TCK = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    # utime and stime are fields 14 and 15; after the ')' they are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0.0


def runqueue_wait_seconds(pid):
    """Time the process's threads spent runnable but waiting for a CPU (schedstat field 2, ns), summed."""
    total = 0
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            try:
                with open(f'/proc/{pid}/task/{tid}/schedstat') as f:
                    total += int(f.read().split()[1])
            except (OSError, IndexError, ValueError):
                pass
    except OSError:
        pass
    return total / 1e9


def machine_busy(seconds=1.0):
    """Share of all CPUs busy over `seconds` (from /proc/stat), to document a disturbed run."""
    def read():
        with open('/proc/stat') as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v), idle
    t0, i0 = read()
    time.sleep(seconds)
    t1, i1 = read()
    return 1 - (i1 - i0) / max(1, t1 - t0)


class Scenario:
    def __init__(self, name, pipelines, peers, extra_fn=None, key=None, env=None, empty=False, peer_size=None,
                 peer_audio_channels=None, pipelines_dir=None):
        self.name, self.pipelines, self.peers, self.extra_fn, self.key = name, pipelines, peers, extra_fn, key
        self.pipelines_dir = pipelines_dir  # a function of the harness's folder, instead of ROOT/pipelines
        self.peer_audio_channels = peer_audio_channels  # instead of --peer-audio-channels
        self.env = env or {}
        self.empty = empty  # the peers leave before the window: the room is measured empty
        self.peer_size = peer_size  # (width, height) instead of --peer-width/--peer-height


def rtmpsink_pipelines(workdir):
    """A copy of the shipped pipelines whose rtmp-passthrough sends with rtmpsink (librtmp) instead of
    rtmp2sink: the A/B of rtmp2sink's connection thread. Not shipped: librtmp does not verify TLS
    certificates (rtmps) and connects in the streaming thread, where a state change cannot
    interrupt it (see bench/RESULTS.md)."""
    out = os.path.join(workdir, 'pipelines-rtmpsink')
    if not os.path.isdir(out):
        os.makedirs(out)
        src = os.path.join(ROOT, 'pipelines')
        for name in os.listdir(src):
            if name.endswith('.pipeline'):
                with open(os.path.join(src, name)) as f:
                    text = f.read()
                if name == 'rtmp-passthrough.pipeline':
                    shipped = 'rtmp2sink name=sink sync=false async=false async-connect=false'
                    if shipped not in text:
                        raise SystemExit(f'{name}: no "{shipped}" to replace; update rtmpsink_pipelines()')
                    text = text.replace(shipped, 'rtmpsink name=sink sync=false async=false')
                with open(os.path.join(out, name), 'w') as f:
                    f.write(text)
    return out


def wait_quiet(h, limit, timeout):
    """Waits (up to timeout s) for a second in which the machine is less than `limit` busy; returns the last reading."""
    deadline = time.monotonic() + timeout
    busy = machine_busy(1.0)
    while busy >= limit and time.monotonic() < deadline:
        busy = machine_busy(1.0)
    if busy >= limit:
        h.say(f'machine still {busy * 100:.0f} % busy after {timeout} s; measuring anyway')
    return busy


def run_scenario(h, sc, port, nginx, args, gateway_cpu, other_cpus, attempt=1):
    room = f'bench-{sc.name}-{attempt}'
    idle_busy = wait_quiet(h, args.quiet, args.quiet_timeout)
    recordings = os.path.join(h.dir, 'recordings')
    argv = ['taskset', '-c', str(gateway_cpu), h.bin('gateway/roomcast'),
            '--signaling-url', f'ws://127.0.0.1:{port}/ws', '--room', room, '--recordings-dir', recordings,
            '--ice-local-address', '127.0.0.1',
            '--pipelines-dir', sc.pipelines_dir(h.dir) if sc.pipelines_dir else os.path.join(ROOT, 'pipelines'),
            '--log-level', 'debug', '--api-listen', 'none']
    for p in sc.pipelines:
        argv += ['--pipeline', p]
    if sc.extra_fn:
        argv += sc.extra_fn(nginx)
    gw = h.start(f'gateway-{sc.name}-{attempt}', argv, env=dict(os.environ, **sc.env))
    h.wait_log(gw, r'joined as hidden member', 15)
    publishes0 = nginx.publishes()
    peers = []
    width, height = sc.peer_size or (args.peer_width, args.peer_height)
    for i, (codec, pattern) in enumerate(sc.peers):
        channels = sc.peer_audio_channels or args.peer_audio_channels
        peers.append(h.start_testpeer(port, room, f'{sc.name}-{attempt}-{i}', codec, pattern=pattern,
                                      width=width, height=height, extra=('--audio-channels', str(channels))))
    n = len(sc.peers)
    # Every peer's video reached the gateway: one keyframe gate per participant.
    deadline = time.monotonic() + 60 + 4 * n
    while len(re.findall(r'keyframe gate open', h.log_text(gw))) < n:
        if time.monotonic() > deadline or gw.poll() is not None:
            raise RuntimeError(f'{sc.name}: not all {n} peers reached the gateway')
        time.sleep(0.2)
    expected_publishes = {'rtmp': 1, 'rtmp-passthrough': n}
    want = sum(expected_publishes.get(p, 0) for p in sc.pipelines)
    if want and not rtmp_fixture.wait_until(lambda: nginx.publishes() - publishes0 >= want, 30, 0.1):
        raise RuntimeError(f'{sc.name}: the gateway published {nginx.publishes() - publishes0} of {want} stream(s)')
    if sc.empty:
        for p in peers:
            h.kill_group(p, 15)
        for p in peers:
            p.wait(timeout=10)
        peers = []
        h.wait_log(gw, r'finishing participant .* \(left the room\)', 10)
    time.sleep(args.warmup)
    busy = machine_busy(0.5)
    c0, t0, w0 = cpu_seconds(gw.pid), time.monotonic(), runqueue_wait_seconds(gw.pid)
    peer0 = sum(cpu_seconds(p.pid) for p in peers)
    time.sleep(args.window)
    c1, t1, w1 = cpu_seconds(gw.pid), time.monotonic(), runqueue_wait_seconds(gw.pid)
    peer1 = sum(cpu_seconds(p.pid) for p in peers)
    rss = rss_mb(gw.pid)
    busy = max(busy, machine_busy(0.5))
    for p in peers:
        h.kill_group(p, 15)
    for p in peers:
        try:
            p.wait(timeout=10)
        except Exception:
            h.kill_group(p, 9)
    h.kill_group(gw, 15)
    try:
        gw.wait(timeout=20)
    except Exception:
        h.kill_group(gw, 9)
    cpu = (c1 - c0) / (t1 - t0) * 100
    n = 0 if sc.empty else n
    row = {'scenario': sc.name, 'attempt': attempt, 'pipelines': '+'.join(sc.pipelines), 'n': n,
           'busy_before_pct': round(idle_busy * 100),
           'cpu_pct': round(cpu, 2), 'cpu_pct_per_participant': round(cpu / n, 2) if n else '-',
           'rss_mb': round(rss, 1), 'peers_cpu_pct': round((peer1 - peer0) / (t1 - t0) * 100, 1) if n else 0,
           'machine_busy_pct': round(busy * 100), 'loadavg_1min': round(os.getloadavg()[0], 1),
           # Threads of the gateway runnable but not running (other load on its CPU), % of the window.
           'gateway_wait_pct': round((w1 - w0) / (t1 - t0) * 100, 1)}
    # What nginx got: frames per second of the composite over the stream (a composite that
    # cannot keep up at 30 fps would look cheap).
    if sc.key:
        flvs = nginx.recordings(sc.key)
        if flvs:
            vpk = gwtest.probe_packets(flvs[-1], 'v')
            if len(vpk) > 30:
                spanned = max(p['pts'] for p in vpk) - min(p['pts'] for p in vpk)
                row['output_fps'] = round((len(vpk) - 1) / spanned, 2)
                info = gwtest.probe_streams(flvs[-1])
                v = next((s for s in info['streams'] if s['codec_type'] == 'video'), {})
                row['output'] = f'{v.get("codec_name")} {v.get("width")}x{v.get("height")}'
    h.say(json.dumps(row))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('build_dir')
    ap.add_argument('--window', type=float, default=15)
    ap.add_argument('--warmup', type=float, default=5)
    ap.add_argument('--passthrough-n', type=int, default=4)
    ap.add_argument('--peer-width', type=int, default=640)
    ap.add_argument('--peer-height', type=int, default=360)
    ap.add_argument('--peer-audio-channels', type=int, default=1, choices=(1, 2),
                    help='channels the peers code their Opus in (1, as browsers send it; declared stereo either way)')
    ap.add_argument('--grid-pattern', default='ball,snow',
                    help='test patterns of the 3x3 and 5x5 grids\' VP8 and H264 peers (they alternate)')
    ap.add_argument('--grid25-peer-size', default='320x180',
                    help='the 5x5 grid\'s peers (25 encoders share one core with the rest of the bench)')
    ap.add_argument('--scenarios', default='baseline-4,composite-4,composite-4-service,baseline-h264,passthrough')
    ap.add_argument('--out', default=None, help='results JSON file')
    ap.add_argument('--repeat', type=int, default=1, help='runs of each scenario (the median CPU is reported)')
    ap.add_argument('--quiet', type=float, default=0.25,
                    help='before each run, wait for a second with the machine less busy than this (0..1)')
    ap.add_argument('--quiet-timeout', type=float, default=90)
    args = ap.parse_args()
    gwtest.enter_netns()
    ncpu = os.cpu_count() or 1
    gateway_cpu = 1 if ncpu > 1 else 0
    other = {0}
    os.sched_setaffinity(0, other)   # the room server, nginx and peers inherit it
    four = [('vp8', 'ball'), ('h264', 'smpte'), ('vp8', 'smpte'), ('h264', 'ball')]
    h264s = [('h264', 'ball' if i % 2 else 'smpte') for i in range(args.passthrough_n)]
    vp8_pattern, h264_pattern = (args.grid_pattern.split(',') * 2)[:2]

    def grid(n):
        return [('vp8', vp8_pattern) if i % 2 == 0 else ('h264', h264_pattern) for i in range(n)]
    size25 = tuple(int(v) for v in args.grid25_peer_size.split('x'))
    scenarios = {
        'baseline-4': Scenario('baseline-4', ['record-mkv'], four),
        # The big grids (#13 item 3): a moving ball over VP8 and noise over H264 (patterns in
        # turn), hard for the composite's x264, as camera video is.
        'baseline-9': Scenario('baseline-9', ['record-mkv'], grid(9)),
        'composite-9': Scenario('composite-9', ['rtmp'], grid(9),
                                lambda ng: ['--rtmp-url', ng.url('composite-9')], key='composite-9'),
        'composite-9-service': Scenario('composite-9-service', ['rtmp'], grid(9),
                                        lambda ng: ['--rtmp-url', ng.url('composite-9-service')],
                                        key='composite-9-service', env={'ORC_CODE': 'backup,emulate'}),
        'baseline-25': Scenario('baseline-25', ['record-mkv'], grid(25), peer_size=size25),
        'composite-25': Scenario('composite-25', ['rtmp'], grid(25),
                                 lambda ng: ['--rtmp-url', ng.url('composite-25')], key='composite-25',
                                 peer_size=size25),
        'composite-25-service': Scenario('composite-25-service', ['rtmp'], grid(25),
                                         lambda ng: ['--rtmp-url', ng.url('composite-25-service')],
                                         key='composite-25-service', env={'ORC_CODE': 'backup,emulate'},
                                         peer_size=size25),
        # The composite's fixed cost: once started (by a first participant) an empty room
        # still gets black and silence, encoded and sent.
        'composite-empty': Scenario('composite-empty', ['rtmp'], four[:1],
                                    lambda ng: ['--rtmp-url', ng.url('composite-empty')], key='composite-empty',
                                    empty=True),
        'composite-4': Scenario('composite-4', ['rtmp'], four,
                                lambda ng: ['--rtmp-url', ng.url('composite')], key='composite'),
        # As under the shipped systemd unit (MemoryDenyWriteExecute=yes): ORC runs its C fallbacks.
        'composite-4-service': Scenario('composite-4-service', ['rtmp'], four,
                                        lambda ng: ['--rtmp-url', ng.url('composite-service')],
                                        key='composite-service', env={'ORC_CODE': 'backup,emulate'}),
        'baseline-h264': Scenario('baseline-h264', ['record-mkv'], h264s),
        'passthrough': Scenario('passthrough', ['rtmp-passthrough'], h264s,
                                lambda ng: ['--rtmp-url', f'rtmp://127.0.0.1:{ng.port}/live']),
        # Stereo senders (OBS over WHIP, or a browser asked for stereo): stereo AAC.
        'passthrough-stereo': Scenario('passthrough-stereo', ['rtmp-passthrough'], h264s,
                                       lambda ng: ['--rtmp-url', f'rtmp://127.0.0.1:{ng.port}/live'],
                                       peer_audio_channels=2),
        'passthrough-rtmpsink': Scenario('passthrough-rtmpsink', ['rtmp-passthrough'], h264s,
                                         lambda ng: ['--rtmp-url', f'rtmp://127.0.0.1:{ng.port}/live'],
                                         pipelines_dir=rtmpsink_pipelines),
    }
    rows = []
    with gwtest.Harness('bench-composite', args.build_dir) as h:
        nginx = rtmp_fixture.NginxRtmp(h.dir, harness=h).start()
        server, port = h.start_signal()
        runs = [(attempt, name) for attempt in range(1, args.repeat + 1) for name in args.scenarios.split(',')]
        for attempt, name in runs:
            try:
                rows.append(run_scenario(h, scenarios[name], port, nginx, args, gateway_cpu, other, attempt))
            except RuntimeError as e:
                h.say(f'{name}: FAILED: {e}')
                log = os.path.join(h.dir, f'gateway-{name}-{attempt}.log')
                if os.path.exists(log):
                    with open(log, errors='replace') as f:
                        h.say('gateway log tail:\n' + ''.join(f.readlines()[-30:]))
                rows.append({'scenario': name, 'attempt': attempt, 'failed': str(e)})
        nginx.stop()
        server.terminate()
    meta = {'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'window_s': args.window,
            'warmup_s': args.warmup, 'gateway_cpu': gateway_cpu, 'ncpu': ncpu,
            'peers': f'{args.peer_width}x{args.peer_height}@30 (roomcast-testpeer defaults: 600 kbit/s), '
                     f'Opus coded in {args.peer_audio_channels} channel(s)'}
    result = {'meta': meta, 'rows': rows}
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    print_summary(result)


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def print_summary(result):
    # The median run of each scenario (by gateway CPU) stands for it in the ratios.
    rows = {}
    for name in dict.fromkeys(r['scenario'] for r in result['rows']):
        ok = [r for r in result['rows'] if r['scenario'] == name and 'cpu_pct' in r]
        if ok:
            m = median([r['cpu_pct'] for r in ok])
            rows[name] = dict(min(ok, key=lambda r: abs(r['cpu_pct'] - m)), cpu_pct=round(m, 2))
    print()
    print('| scenario | run | templates | N | gateway CPU % of a core | per participant | RSS MB | peers CPU % | '
          'machine busy % | load average | gateway run-queue wait % | output |')
    print('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|')
    for r in result['rows']:
        if 'failed' in r:
            print(f'| {r["scenario"]} | {r.get("attempt")} | failed: {r["failed"]} | | | | | | | | | |')
            continue
        out = f'{r.get("output", "")} {r["output_fps"]} fps' if 'output_fps' in r else ''
        print(f'| {r["scenario"]} | {r["attempt"]} | {r["pipelines"]} | {r["n"]} | {r["cpu_pct"]} | {r["cpu_pct_per_participant"]} | '
              f'{r["rss_mb"]} | {r["peers_cpu_pct"]} | {r["machine_busy_pct"]} | {r.get("loadavg_1min", "")} | '
              f'{r["gateway_wait_pct"]} | {out} |')
    ratios = []
    for num, den in (('composite-4', 'baseline-4'), ('composite-4-service', 'baseline-4'),
                     ('composite-9', 'baseline-9'), ('composite-9-service', 'baseline-9'),
                     ('composite-9-service', 'composite-9'),
                     ('composite-25', 'baseline-25'), ('composite-25-service', 'baseline-25'),
                     ('composite-25-service', 'composite-25'),
                     ('passthrough', 'baseline-h264'), ('passthrough-stereo', 'baseline-h264'),
                     ('passthrough-stereo', 'passthrough')):
        if num in rows and den in rows and 'cpu_pct' in rows[num] and 'cpu_pct' in rows[den]:
            a, b = rows[num], rows[den]
            ratios.append(f'| {num} / {den} | {a["cpu_pct"] / max(b["cpu_pct"], 1e-9):.2f} | '
                          f'{(a["cpu_pct"] - b["cpu_pct"]) / a["n"]:.2f} |')
    if ratios:
        print()
        print('(medians over the runs)')
        print('| ratio | CPU ratio | extra CPU % per participant |')
        print('|---|---:|---:|')
        print('\n'.join(ratios))


if __name__ == '__main__':
    main()
