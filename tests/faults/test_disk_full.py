#!/usr/bin/env python3
"""A full disk: the outputs writing to it fail alone and come back as new parts.

Two cases (argument 2): 'participant' (default) for participant-scope outputs, 'room' for a
room-scope composite recording.

participant: the room 'full' records into a 4 MB tmpfs (the test's own mount namespace), the room
'calm' onto the ordinary disk; two test peers in 'full', one in 'calm', template record-mkv. Once
all three record, the tmpfs is filled to the last byte. Checked:
  - each 'full' participant's output fails alone: the log and the control API (state retrying,
    reason) say "no space left on device" with the file's path, the output.failed webhook too;
    no participant is finished, the 'calm' recording keeps growing;
  - the filler is removed: each output continues as a new part (<id>-2.mkv) within a bound,
    measured from the moment space was freed;
  - after a clean stop the manifest (written again once there was room) lists both parts per
    participant and a disk-full gap per participant from the failure to the new part's start;
  - every file decodes with ffprobe, including the parts cut by the full disk.

room: the room 'full' (tmpfs) runs two room-scope outputs of one composite, composite-mp4 (its
file on the tmpfs) and rtmp to a local nginx-rtmp; 'calm' records record-mkv on the ordinary disk.
Once all record, the tmpfs is filled. Checked:
  - composite-mp4 fails alone: log, API (retrying, reason) and output.failed webhook say "no space
    left on device" with its path; the rtmp output of the same composite keeps sending (one
    publish, no restart) and 'calm' keeps growing;
  - space freed: it records again as composite-mp4-2.mp4 within a bound (the time is reported);
  - the manifest lists both parts and a disk-full gap of the output (participant null) from the
    failure to the second part's start; the part cut by the full disk decodes without one error
    and holds nearly all the time the manifest gives it.
"""

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration', 'ops'))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration', 'restream'))
import gwtest  # noqa: E402
import opstest  # noqa: E402
import rtmp_fixture  # noqa: E402

FULL, CALM = 'full', 'calm'
# Space freed -> the new part's first buffer: the file retry schedule caps at 4 s, plus a
# keyframe; generous for a machine with a load average of 10.
RESUME_BOUND_S = 20.0


def enter_mount_ns():
    """Re-executes this script in a private mount namespace (then enter_netns adds the network)."""
    if os.environ.get('ROOMCAST_MNTNS') != '1':
        if os.geteuid() != 0:
            print('skip: needs root for unshare -m (a private tmpfs)', file=sys.stderr)
            sys.exit(gwtest.SKIP)
        env = dict(os.environ, ROOMCAST_MNTNS='1')
        os.execvpe('unshare', ['unshare', '-m', '--propagation', 'private', '--', sys.executable]
                   + sys.argv, env)


def fill(path):
    """Writes path until the file system refuses (ENOSPC); returns the bytes written."""
    written = 0
    chunk = b'\0' * 65536
    with open(path, 'wb', buffering=0) as f:
        while True:
            try:
                n = f.write(chunk if len(chunk) else b'\0')
                written += n
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    return written
                chunk = chunk[:max(1, len(chunk) // 16)]


def main():
    case = sys.argv[2] if len(sys.argv) > 2 else 'participant'
    if case not in ('participant', 'room'):
        sys.exit(f'unknown case {case!r} (participant, room)')
    enter_mount_ns()
    gwtest.enter_netns()
    name = 'faults-disk-full' + ('' if case == 'participant' else '-room')
    with gwtest.Harness(name, gwtest.build_dir_from_args()) as h:
        f = h.failures
        tmpfs = os.path.join(h.recordings, FULL)
        os.makedirs(tmpfs)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', tmpfs], check=True)
        try:
            (run if case == 'participant' else run_room)(h, f, tmpfs)
        finally:
            for p in h.procs:
                if p.poll() is None:
                    h.kill_group(p, signal.SIGTERM)
                    try:
                        p.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        h.kill_group(p, signal.SIGKILL)
            keep = os.environ.get('ROOMCAST_KEEP_ARTIFACTS')
            if keep:
                subprocess.run(['cp', '-a', tmpfs, os.path.join(h.dir, 'tmpfs-copy')])
            subprocess.run(['umount', '-l', tmpfs])


def run(h, f, tmpfs):
    hooks = opstest.WebhookReceiver()
    secret = opstest.write(os.path.join(h.dir, 'webhook-secret'), opstest.SECRET + '\n')
    server, port = h.start_signal()
    gw, api_port = opstest.start_gateway(h, port, rooms=(FULL, CALM), pipelines=('record-mkv',),
                                         extra=['--webhook-url', hooks.url, '--webhook-secret-file', secret])
    api = opstest.Api(api_port)
    h.wait_log(gw, r'joined as hidden member', 15)
    h.start_testpeer(port, FULL, 'alice', 'vp8')
    h.start_testpeer(port, FULL, 'bob', 'vp8', pattern='ball')
    h.start_testpeer(port, CALM, 'carol', 'vp8')
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(re.findall(r'\.mkv started', h.log_text(gw))) < 3:
        time.sleep(0.2)
    f.check(len(re.findall(r'\.mkv started', h.log_text(gw))) == 3, 'three recordings started')
    time.sleep(3)

    full_dir = h.session_dir(FULL)
    calm_dir = h.session_dir(CALM)
    log_mark = len(h.log_text(gw).encode())
    filled_at = time.monotonic()
    filler = os.path.join(tmpfs, 'filler')
    h.say(f'filling the tmpfs: {fill(filler)} bytes')

    # Both 'full' outputs fail, each alone.
    failed = []
    deadline = time.monotonic() + 20
    rx = re.compile(r'output (record-mkv-\d+) for (\S+) failed: no space left on device: (\S+); retrying')
    while time.monotonic() < deadline and len(failed) < 2:
        failed = rx.findall(h.log_text(gw)[log_mark:])
        time.sleep(0.2)
    failed = {peer: (out, path) for out, peer, path in failed}
    f.check(len(failed) == 2, f'both outputs of room full failed on the full disk ({failed})')
    f.check(all(path.startswith(full_dir) and path.endswith('.mkv') for _, path in failed.values()),
            f'the log names each file ({[p for _, p in failed.values()]})')
    h.say(f'outputs failed {time.monotonic() - filled_at:.1f} s after the disk filled')

    room = api.rooms().get(FULL, {})
    outs = room.get('outputs', [])
    f.check(len(outs) == 1 and outs[0].get('state') == 'retrying'
            and 'no space left on device' in outs[0].get('reason', ''),
            f'API: the output is retrying with reason "no space left on device" '
            f'({[(o.get("state"), o.get("reason")) for o in outs]})')
    f.check(len(room.get('participants', [])) == 2, 'API: both participants still in room full')
    calm = api.rooms().get(CALM, {}).get('outputs', [])
    f.check(len(calm) == 1 and calm[0].get('state') == 'running', f'API: room calm records on ({calm})')
    opstest.wait_until(lambda: 'output.failed' in hooks.names(), 10, 'output.failed webhook')
    fails = [e['data'] for e in hooks.parsed() if e['event'] == 'output.failed']
    f.check(any('no space left on device' in (d.get('reason') or '') and d.get('room') == FULL for d in fails),
            f'webhook output.failed says no space left on device ({[d.get("reason") for d in fails]})')

    calm_file = os.path.join(calm_dir, sorted(x for x in os.listdir(calm_dir) if x.endswith('.mkv'))[0])
    size_before = os.path.getsize(calm_file)
    time.sleep(4)  # the disk stays full: nothing comes back, nothing else stops
    f.check(os.path.getsize(calm_file) > size_before + 20000,
            f'room calm keeps recording ({size_before} -> {os.path.getsize(calm_file)} bytes)')
    text = h.log_text(gw)[log_mark:]
    f.check('finishing participant' not in text, 'no participant was finished')
    f.check('pipeline error' not in text, 'no receiver failed')

    # Free the disk: each output continues as a new part.
    os.unlink(filler)
    freed_at = time.monotonic()
    resumed = h.wait_started(gw, r'(\S+-2\.mkv)', 2, freed_at, RESUME_BOUND_S + 10, after=log_mark)
    h.say(f'space freed -> new parts recording: {resumed}')
    f.check(len(resumed) == 2, f'both outputs continued as part 2 ({sorted(resumed)})')
    f.check(all(t <= RESUME_BOUND_S for t in resumed.values()),
            f'within {RESUME_BOUND_S} s of space being freed ({[round(t, 2) for t in resumed.values()]})')
    time.sleep(4)
    outs = api.rooms().get(FULL, {}).get('outputs', [])
    f.check(len(outs) == 1 and outs[0].get('state') == 'running' and not outs[0].get('reason'),
            f'API: running again ({[(o.get("state"), o.get("reason")) for o in outs]})')

    h.kill_group(gw, signal.SIGTERM)
    h.wait_exit(gw, 30)
    with open(os.path.join(full_dir, 'manifest.json')) as fp:
        manifest = json.load(fp)
    files = manifest['files']
    gaps = manifest.get('gaps', [])
    h.say(f'manifest files: {[(x["participant"], x["path"], x["start"], x["duration"]) for x in files]}')
    h.say(f'manifest gaps: {gaps}')
    by_peer = {}
    for x in files:
        by_peer.setdefault(x['participant'], []).append(x)
    f.check(len(by_peer) == 2 and all(len(v) == 2 for v in by_peer.values()),
            f'manifest: two parts per participant ({ {k: [x["path"] for x in v] for k, v in by_peer.items()} })')
    for peer, parts in by_peer.items():
        parts.sort(key=lambda x: x['start'])
        f.check(all(x['template'] == 'record-mkv' and x['finished'] for x in parts),
                f'{peer}: both parts record-mkv and finished')
        f.check(parts[-1]['path'] == parts[0]['path'].replace('.mkv', '-2.mkv'),
                f'{peer}: the new part is named {parts[-1]["path"]}')
        gap = [g for g in gaps if g['participant'] == peer and g['cause'] == 'disk-full']
        if f.check(len(gap) == 1, f'{peer}: one disk-full gap ({gap})'):
            g = gap[0]
            first_end = parts[0]['start'] + parts[0]['duration']
            f.check(g['output'] == 'record-mkv-1' and g['end'] is not None
                    and abs(g['end'] - parts[-1]['start']) < 0.01 and g['start'] < g['end']
                    and g['start'] >= first_end - 2.0,
                    f'{peer}: gap {g["start"]}..{g["end"]}, first part ends {first_end:.2f}, '
                    f'second starts {parts[-1]["start"]}')
    for d in (full_dir, calm_dir):
        for name in sorted(os.listdir(d)):
            if not name.endswith('.mkv'):
                continue
            path = os.path.join(d, name)
            ok, errors = gwtest.decodes(path)
            streams = gwtest.probe_streams(path).get('streams', [])
            f.check(ok and any(s.get('codec_type') == 'video' for s in streams),
                    f'{os.path.basename(d)}/{name}: decodes ({os.path.getsize(path)} bytes; {errors or "no errors"})')
    hooks.close()


def decoded_seconds(path):
    """Seconds of video ffprobe reads from path (last packet's end), 0 if none."""
    packets = gwtest.probe_packets(path, 'v')
    return gwtest.media_end(packets) if packets else 0.0


def run_room(h, f, tmpfs):
    nginx = rtmp_fixture.NginxRtmp(h.dir, harness=h).start()
    hooks = opstest.WebhookReceiver()
    secret = opstest.write(os.path.join(h.dir, 'webhook-secret'), opstest.SECRET + '\n')
    server, port = h.start_signal()
    # 'calm' records its participants; 'full' is joined by the API with room-scope outputs only.
    gw, api_port = opstest.start_gateway(h, port, rooms=(CALM,), pipelines=('record-mkv',),
                                         extra=['--webhook-url', hooks.url, '--webhook-secret-file', secret])
    api = opstest.Api(api_port)
    h.wait_log(gw, r'joined as hidden member', 15)
    # One small composite (both outputs share it: same size and rate) keeps two cores able.
    small = {'width': 320, 'height': 240, 'framerate': 15, 'video_bitrate': 300, 'keyframe_interval': 30,
             'audio_bitrate': 64000}
    status, mp4, _ = api.post(f'/v1/rooms/{FULL}/outputs', {'pipeline': 'composite-mp4', 'params': small})
    f.check(status == 201, f'composite-mp4 started in room full ({status} {mp4})')
    status, rtmp, _ = api.post(f'/v1/rooms/{FULL}/outputs',
                               {'pipeline': 'rtmp', 'params': dict(small, rtmp_url=nginx.url('room'))})
    f.check(status == 201, f'rtmp started in room full ({status} {rtmp})')
    mp4_id, rtmp_id = (mp4 or {}).get('id'), (rtmp or {}).get('id')
    h.start_testpeer(port, FULL, 'alice', 'vp8')
    h.start_testpeer(port, FULL, 'bob', 'vp8', pattern='ball')
    h.start_testpeer(port, CALM, 'carol', 'vp8')

    def outputs(room):
        return {o['id']: o for o in api.rooms().get(room, {}).get('outputs', [])}

    def all_recording():
        text = h.log_text(gw)
        return (re.search(r'composite-mp4\.mp4 started', text) and re.search(r'\.mkv started', text)
                and outputs(FULL).get(rtmp_id, {}).get('bytes', 0) > 0)
    opstest.wait_until(all_recording, 45, 'the composite file, the stream and calm recording')
    time.sleep(4)

    full_dir = h.session_dir(FULL)
    calm_dir = h.session_dir(CALM)
    first_part = os.path.join(full_dir, 'composite-mp4.mp4')
    log_mark = len(h.log_text(gw).encode())
    filled_at = time.monotonic()
    filler = os.path.join(tmpfs, 'filler')
    h.say(f'filling the tmpfs: {fill(filler)} bytes')

    rx = re.compile(r'output (composite-mp4-\d+) \(template composite-mp4\) failed: '
                    r'no space left on device: (\S+); retrying as a new part')
    m = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not m:
        m = rx.search(h.log_text(gw)[log_mark:])
        time.sleep(0.2)
    f.check(m is not None and m.group(1) == mp4_id and m.group(2) == first_part,
            f'log: {mp4_id} failed alone with "no space left on device: {first_part}" '
            f'({m.group(0) if m else "no such line"})')
    h.say(f'composite output failed {time.monotonic() - filled_at:.1f} s after the disk filled')

    outs = outputs(FULL)
    o = outs.get(mp4_id, {})
    f.check(o.get('state') == 'retrying' and f'no space left on device: {first_part}' in (o.get('reason') or ''),
            f'API: {mp4_id} retrying, reason names the full disk and the path ({o.get("state")}, {o.get("reason")})')
    r = outs.get(rtmp_id, {})
    f.check(r.get('state') == 'running' and r.get('restarts') == 0,
            f'API: {rtmp_id} of the same composite runs on ({r.get("state")}, restarts {r.get("restarts")})')
    opstest.wait_until(lambda: 'output.failed' in hooks.names(), 10, 'output.failed webhook')
    fails = [e['data'] for e in hooks.parsed() if e['event'] == 'output.failed']
    f.check(any(d.get('id') == mp4_id and d.get('room') == FULL and d.get('state') == 'retrying'
                and f'no space left on device: {first_part}' in (d.get('reason') or '') for d in fails),
            f'webhook output.failed: retrying, no space left on device and the path '
            f'({[(d.get("id"), d.get("state"), d.get("reason")) for d in fails]})')

    calm_file = os.path.join(calm_dir, sorted(x for x in os.listdir(calm_dir) if x.endswith('.mkv'))[0])
    calm_before = os.path.getsize(calm_file)
    sent_before = r.get('bytes', 0)
    time.sleep(5)  # the disk stays full: the file output waits, everything else goes on
    outs = outputs(FULL)
    r = outs.get(rtmp_id, {})
    f.check(r.get('state') == 'running' and r.get('restarts') == 0 and r.get('bytes', 0) > sent_before + 20000,
            f'the stream of the same composite keeps sending ({sent_before} -> {r.get("bytes")} bytes, '
            f'restarts {r.get("restarts")})')
    f.check(outs.get(mp4_id, {}).get('state') == 'retrying', 'the file output waits while the disk is full')
    f.check(os.path.getsize(calm_file) > calm_before + 20000,
            f'room calm keeps recording ({calm_before} -> {os.path.getsize(calm_file)} bytes)')
    text = h.log_text(gw)[log_mark:]
    f.check(not re.search(r'composite \S+ failed', text), 'the composite did not fail')
    f.check('finishing participant' not in text, 'no participant was finished')

    # Free the disk: the composite output records again as a new part.
    os.unlink(filler)
    freed_at = time.monotonic()
    resumed = h.wait_started(gw, r'(\S+composite-mp4-2\.mp4)', 1, freed_at, RESUME_BOUND_S + 10, after=log_mark)
    h.say(f'space freed -> composite recording again: {resumed}')
    f.check(len(resumed) == 1 and all(t <= RESUME_BOUND_S for t in resumed.values()),
            f'composite-mp4-2.mp4 started within {RESUME_BOUND_S} s of space being freed '
            f'({[round(t, 2) for t in resumed.values()]})')
    time.sleep(4)
    outs = outputs(FULL)
    o = outs.get(mp4_id, {})
    f.check(o.get('state') == 'running' and not o.get('reason') and len(o.get('files', [])) == 2,
            f'API: running again, two files ({o.get("state")}, {o.get("reason")}, '
            f'{[x.get("path") for x in o.get("files", [])]})')
    f.check(outs.get(rtmp_id, {}).get('restarts') == 0, 'the stream never restarted')

    h.kill_group(gw, signal.SIGTERM)
    h.wait_exit(gw, 30)
    f.check(nginx.publishes() == 1, f'nginx got one publish for the whole test ({nginx.publishes()})')
    with open(os.path.join(full_dir, 'manifest.json')) as fp:
        manifest = json.load(fp)
    parts = sorted((x for x in manifest['files'] if x['template'] == 'composite-mp4'), key=lambda x: x['start'])
    gaps = manifest.get('gaps', [])
    h.say(f'manifest files: {[(x["path"], x["start"], x["duration"], x["bytes"]) for x in parts]}')
    h.say(f'manifest gaps: {gaps}')
    f.check([x['path'] for x in parts] == ['composite-mp4.mp4', 'composite-mp4-2.mp4']
            and all(x['participant'] is None and x['finished'] for x in parts),
            f'manifest: two finished parts of the room output ({[(x["path"], x["participant"]) for x in parts]})')
    gap = [g for g in gaps if g['cause'] == 'disk-full']
    if f.check(len(gap) == 1 and len(parts) == 2, f'manifest: one disk-full gap ({gap})'):
        g = gap[0]
        first_end = parts[0]['start'] + parts[0]['duration']
        f.check(g['participant'] is None and g['output'] == mp4_id and g['end'] is not None
                and abs(g['end'] - parts[1]['start']) < 0.01 and g['start'] < g['end']
                and g['start'] >= first_end - 2.0,
                f'gap {g["start"]}..{g["end"]} of {g["output"]}, first part ends {first_end:.2f}, '
                f'second starts {parts[1]["start"]}')
    for name in ('composite-mp4.mp4', 'composite-mp4-2.mp4'):
        path = os.path.join(full_dir, name)
        if not f.check(os.path.exists(path), f'{name} exists'):
            continue
        ok, errors = gwtest.decodes(path)
        streams = gwtest.probe_streams(path).get('streams', [])
        f.check(ok and not errors and {s.get('codec_type') for s in streams} == {'video', 'audio'},
                f'{name}: video and audio decode without one error ({os.path.getsize(path)} bytes; '
                f'{errors or "no errors"})')
    if parts:
        seconds = decoded_seconds(first_part)
        f.check(seconds >= max(1.0, parts[0]['duration'] - 2.0),
                f'the part cut by the full disk plays {seconds:.2f} s of the {parts[0]["duration"]:.2f} s '
                f'it was fed')
    hooks.close()
    nginx.stop()


if __name__ == '__main__':
    main()
