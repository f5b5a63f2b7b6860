"""Shared harness for the gateway's process-level tests: loopback-only network namespace, processes, media checks.

Every test re-executes itself under `unshare -n` (a private network namespace
whose only interface is loopback), so no test can send a packet anywhere
else; every process it starts runs in its own process group and is killed
(group-wide) when the test ends, pass or fail.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77

# The sanitizer pass (tests/sanitizers/run.sh) runs our code two to three times slower, so it
# sets ROOMCAST_TIMING_SLACK and the real-time allowances (the largest gap in a recording, how
# soon a participant is offered to) grow by that factor there. The normal suites leave it at 1.
TIMING_SLACK = float(os.environ.get('ROOMCAST_TIMING_SLACK', '1'))


def allowance(seconds):
    """A real-time allowance, widened in sanitized runs (TIMING_SLACK)."""
    return seconds * TIMING_SLACK


# roomcast-testpeer's keyframe interval per codec, in seconds (testpeer/live_source.cpp: 30 frames
# for VP8 and VP9, key-int-max 60 for H264, at 30 fps).
TESTPEER_KEYFRAME_INTERVAL = {'vp8': 1.0, 'vp9': 1.0, 'h264': 2.0}


def video_gap_allowance(codec, seconds=0.5):
    """The largest video gap allowed in a recording of a test peer sending `codec`: `seconds`,
    widened in sanitized runs, where a frame the starved gateway loses also costs the frames up to
    the peer's next keyframe when the peer answers the keyframe request more slowly than that."""
    if TIMING_SLACK > 1:
        return max(allowance(seconds), TESTPEER_KEYFRAME_INTERVAL[codec] + seconds)
    return seconds


def sending_time(seconds):
    """How long a test peer sends: longer in sanitized runs, where the gateway takes seconds
    more to offer to it (webrtcbin set-up under ASan), so that as much is recorded. Whole
    seconds: the test peer's --duration is an integer."""
    return int(round(seconds * TIMING_SLACK))


def enter_netns():
    """Re-executes this script in a fresh network namespace with only lo up."""
    if os.environ.get('ROOMCAST_NETNS') != '1':
        if os.geteuid() != 0:
            print('skip: needs root for unshare -n (a private loopback-only network)', file=sys.stderr)
            sys.exit(SKIP)
        env = dict(os.environ, ROOMCAST_NETNS='1')
        try:
            os.execvpe('unshare', ['unshare', '-n', '--', sys.executable] + sys.argv, env)
        except OSError as e:
            print(f'skip: cannot run unshare: {e}', file=sys.stderr)
            sys.exit(SKIP)
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    out = subprocess.run(['ip', '-o', 'link'], capture_output=True, text=True, check=True).stdout
    links = [l.split(':')[1].strip() for l in out.splitlines() if l.strip()]
    if links != ['lo']:
        sys.exit(f'refusing to run: network namespace has links {links}, expected only lo')


class Failures:
    """Collects check failures so that one run reports all of them."""

    def __init__(self):
        self.items = []

    def check(self, ok, message):
        print(('ok   ' if ok else 'FAIL ') + message, flush=True)
        if not ok:
            self.items.append(message)
        return ok


class Harness:
    """Processes and files of one test run; use as a context manager."""

    def __init__(self, name, build_dir):
        self.name = name
        self.build_dir = os.path.abspath(build_dir)
        self.source_dir = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
        self.dir = tempfile.mkdtemp(prefix=f'roomcast-{name}-')
        self.recordings = os.path.join(self.dir, 'recordings')
        self.procs = []
        self.failures = Failures()
        self.t0 = time.monotonic()

    # ----- binaries -----
    def bin(self, rel):
        path = os.path.join(self.build_dir, rel)
        if not os.access(path, os.X_OK):
            sys.exit(f'missing binary {path}: build it first')
        return path

    # ----- processes -----
    def start(self, label, argv, **kw):
        log = open(os.path.join(self.dir, f'{label}.log'), 'wb')
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, cwd=self.dir, **kw)
        p.label = label
        p.logpath = log.name
        self.procs.append(p)
        self.say(f'started {label} (pid {p.pid}): {" ".join(argv)}')
        return p

    def log_text(self, p):
        with open(p.logpath, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_log(self, p, pattern, timeout, after=0):
        """Waits until p's log matches pattern (from byte offset after); returns the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            text = self.log_text(p)[after:]
            m = rx.search(text)
            if m:
                return m
            if p.poll() is not None:
                text = self.log_text(p)[after:]
                m = rx.search(text)
                if m:
                    return m
                raise RuntimeError(f'{p.label} exited ({p.returncode}) before logging /{pattern}/')
            time.sleep(0.05)
        raise RuntimeError(f'{p.label} did not log /{pattern}/ within {timeout} s')

    def wait_exit(self, p, timeout):
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f'{p.label} did not exit within {timeout} s')

    def kill_group(self, p, sig=signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass

    def say(self, message):
        print(f'[{time.monotonic() - self.t0:6.2f}] {message}', flush=True)

    # ----- the cast -----
    def start_signal(self, port=0, static_dir=None):
        argv = [self.bin('signaling/roomcast-signal'), '--listen', f'127.0.0.1:{port}']
        if static_dir:
            argv += ['--static', static_dir]
        p = self.start('signal' if port == 0 else f'signal-{port}-{len(self.procs)}', argv)
        m = self.wait_log(p, r'listening on 127\.0\.0\.1:(\d+)', 10)
        return p, int(m.group(1))

    def start_gateway(self, port, room, pipelines=('record-mkv',), extra=()):
        argv = [self.bin('gateway/roomcast'), '--signaling-url', f'ws://127.0.0.1:{port}/ws', '--room', room,
                '--recordings-dir', self.recordings, '--ice-local-address', '127.0.0.1',
                '--pipelines-dir', os.path.join(self.source_dir, 'pipelines'), '--log-level', 'debug']
        for name in pipelines:
            argv += ['--pipeline', name]
        env = dict(os.environ)
        # Debugging aid: GStreamer debug output for the gateway alone.
        if os.environ.get('ROOMCAST_GATEWAY_GST_DEBUG'):
            env['GST_DEBUG'] = os.environ['ROOMCAST_GATEWAY_GST_DEBUG']
            env['GST_DEBUG_NO_COLOR'] = '1'
        p = self.start('gateway', argv + list(extra), env=env)
        self.wait_log(p, r'joined as hidden member', 10)
        return p

    def start_testpeer(self, port, room, name, codec, duration=0, pattern='smpte', width=640, height=360,
                       extra=()):
        argv = [self.bin('testpeer/roomcast-testpeer'), '--signaling-url', f'ws://127.0.0.1:{port}/ws',
                '--room', room, '--name', name, '--codec', codec, '--duration', str(duration),
                '--pattern', pattern, '--width', str(width), '--height', str(height),
                '--ice-local-address', '127.0.0.1', *extra]
        return self.start(f'peer-{name}', argv)

    def require_browser(self, tools=()):
        """Skips the test (77) unless Chromium, node, playwright-core and tools are there."""
        missing = [t for t in ('node', *tools) if not shutil.which(t)]
        if not os.access('/usr/bin/chromium', os.X_OK):
            missing.append('/usr/bin/chromium')
        if not os.path.isdir(os.path.join(self.source_dir, 'web', 'node_modules', 'playwright-core')):
            missing.append('web/node_modules/playwright-core (scripts/setup.sh runs npm ci in web/)')
        if missing:
            print(f'skip: missing {", ".join(missing)}', file=sys.stderr)
            sys.exit(SKIP)

    def wait_started(self, p, pattern, count, t0, timeout, after=0):
        """{file: seconds since t0 (monotonic)} for the first `count` distinct files whose
        "<file> started" line (file matching pattern, a regex group) p logs from byte `after`."""
        started = {}
        rx = re.compile(pattern + r' started')
        while time.monotonic() < t0 + timeout and len(started) < count:
            for m in rx.finditer(self.log_text(p)[after:]):
                started.setdefault(m.group(1), time.monotonic() - t0)
            time.sleep(0.1)
        return started

    # ----- recordings -----
    def session_dir(self, room):
        base = os.path.join(self.recordings, room)
        dirs = sorted(os.listdir(base)) if os.path.isdir(base) else []
        if len(dirs) != 1:
            raise RuntimeError(f'expected one session folder in {base}, found {dirs}')
        return os.path.join(base, dirs[0])

    def manifest(self, room):
        with open(os.path.join(self.session_dir(room), 'manifest.json')) as f:
            return json.load(f)

    # ----- teardown -----
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        for p in self.procs:
            if p.poll() is None:
                self.kill_group(p, signal.SIGTERM)
        deadline = time.monotonic() + 3
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # Whatever the process left behind in its group goes too.
            self.kill_group(p, signal.SIGKILL)
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        if exc is not None:
            self.failures.items.append(f'{exc_type.__name__}: {exc}')
        failed = bool(self.failures.items)
        if failed:
            for p in self.procs:
                text = self.log_text(p)
                print(f'----- {p.label} log (last 60 lines) -----', file=sys.stderr)
                print('\n'.join(text.splitlines()[-60:]), file=sys.stderr)
        artifacts = os.environ.get('ROOMCAST_ARTIFACTS_DIR')
        if artifacts and (failed or os.environ.get('ROOMCAST_KEEP_ARTIFACTS')):
            dest = os.path.join(artifacts, f'{self.name}-{int(time.time())}')
            shutil.copytree(self.dir, dest, ignore=shutil.ignore_patterns('*.y4m'), dirs_exist_ok=True)
            print(f'artifacts kept in {dest}', file=sys.stderr)
        shutil.rmtree(self.dir, ignore_errors=True)
        if failed:
            print(f'{self.name}: {len(self.failures.items)} failure(s):', file=sys.stderr)
            for item in self.failures.items:
                print(f'  - {item}', file=sys.stderr)
            sys.exit(1)
        print(f'{self.name}: all checks passed ({time.monotonic() - self.t0:.1f} s)')
        return True


# ----- media inspection (ffprobe) -----

def probe_streams(path):
    out = subprocess.run(['ffprobe', '-v', 'error', '-print_format', 'json', '-show_streams', '-show_format',
                          path], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f'ffprobe cannot read {path}: {out.stderr.strip()}')
    return json.loads(out.stdout)


def probe_packets(path, selector):
    """Packets of the first stream of a kind ('v' or 'a'), in file order: dicts with pts, size, key."""
    out = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', f'{selector}:0', '-print_format', 'json',
                          '-show_entries', 'packet=pts_time,dts_time,duration_time,size,flags', path],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f'ffprobe cannot read packets of {path}: {out.stderr.strip()}')
    packets = []
    for p in json.loads(out.stdout).get('packets', []):
        t = p.get('pts_time', p.get('dts_time'))
        if t is None:
            continue
        packets.append({'pts': float(t), 'size': int(p.get('size', 0)), 'key': 'K' in p.get('flags', ''),
                        'duration': float(p.get('duration_time', 0) or 0)})
    return packets


def probe_frame_sizes(path, start=0.0):
    """(width, height) of every decoded video frame from start on."""
    # Decodes everything (a seek could land past the first frames): 12 s of 720p VP8 takes about a second.
    out = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-print_format', 'json',
                          '-show_entries', 'frame=width,height,pts_time,best_effort_timestamp_time', path],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f'ffprobe cannot decode {path}: {out.stderr.strip()}')
    sizes = []
    for f in json.loads(out.stdout).get('frames', []):
        t = f.get('pts_time', f.get('best_effort_timestamp_time'))
        if t not in (None, 'N/A') and float(t) >= start:
            sizes.append((int(f['width']), int(f['height'])))
    return sizes


def decodes(path):
    """Whether ffmpeg decodes the whole file without an error (a truncated tail is tolerated)."""
    out = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-i', path, '-f', 'null', '-'],
                         capture_output=True, text=True, timeout=120)
    return out.returncode == 0, out.stderr.strip()[-400:]


def media_end(packets):
    return max((p['pts'] + p['duration'] for p in packets), default=0.0)


def largest_gap(packets):
    times = sorted(p['pts'] for p in packets)
    return max((b - a for a, b in zip(times, times[1:])), default=0.0)


def check_recording(f, path, video_codec, audio_codec='opus'):
    """The common checks: both streams, the codec sent (no transcode), a keyframe first."""
    info = probe_streams(path)
    streams = info['streams']
    video = [s for s in streams if s['codec_type'] == 'video']
    audio = [s for s in streams if s['codec_type'] == 'audio']
    name = os.path.basename(path)
    f.check(len(video) == 1, f'{name}: one video stream ({len(video)})')
    f.check(len(audio) == 1, f'{name}: one audio stream ({len(audio)})')
    if video:
        f.check(video[0]['codec_name'] == video_codec, f'{name}: video codec {video[0]["codec_name"]} == {video_codec}')
    if audio:
        f.check(audio[0]['codec_name'] == audio_codec, f'{name}: audio codec {audio[0]["codec_name"]} == {audio_codec}')
    vpk = probe_packets(path, 'v') if video else []
    apk = probe_packets(path, 'a') if audio else []
    f.check(bool(vpk) and vpk[0]['key'], f'{name}: first video packet is a keyframe')
    return info, vpk, apk


def build_dir_from_args():
    if len(sys.argv) < 2:
        sys.exit(f'usage: {sys.argv[0]} BUILD_DIR')
    return sys.argv[1]
