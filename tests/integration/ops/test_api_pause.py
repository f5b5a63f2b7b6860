#!/usr/bin/env python3
"""Pause and resume through the control API, with the real gateway, a test peer and nginx-rtmp.

One test peer (colour bars) is in the room; three outputs run: record-mkv (participant scope),
composite-mp4 and rtmp (room scope, to a local nginx-rtmp that records what it gets). All three are
paused for 3 s and resumed. Checks: 200 with "paused"/"paused_at", 409 already_paused / not_paused,
404 for an unknown output or room, the output.paused / output.resumed webhooks; each file is one
file (ffprobe reads it whole) with media before and after and none inside the paused span, which the
manifest lists as a "paused" gap of the measured length (+-0.5 s); the RTMP stream is one publish
that carries frames all along, black ones for the length of the pause and colour after it.
"""

import json
import os
import signal
import subprocess
import sys
import time

import opstest
from opstest import gwtest, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'restream'))
import rtmp_fixture  # noqa: E402

ROOM = 'pauseroom'
KEY = 'paused'
SIZE = {'width': 640, 'height': 360, 'framerate': 15}


def gray_means(path):
    """(pts, mean luma) of every video frame of path, decoded as it is (no frame dropped or doubled)."""
    pts = [p['pts'] for p in gwtest.probe_packets(path, 'v')]
    out = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-i', path, '-map', '0:v:0', '-fps_mode',
                          'passthrough', '-vf', 'scale=16:16', '-pix_fmt', 'gray', '-f', 'rawvideo', '-'],
                         capture_output=True, timeout=120)
    frames = [out.stdout[i:i + 256] for i in range(0, len(out.stdout) - 255, 256)]
    means = [sum(fr) / 256.0 for fr in frames]
    return list(zip(sorted(pts), means))


def check_file_hole(f, path, start_in_file, end_in_file, name, measured):
    """Media before and after [start, end] of the file's timeline, none inside (0.5 s of slack: the
    composite's file lies about 0.4 s behind its manifest start under load), and a hole in each
    stream as long as the pause (+-0.5 s)."""
    ok, err = gwtest.decodes(path)
    f.check(ok, f'{name}: decodes whole ({err})')
    for kind in ('v', 'a'):
        pk = gwtest.probe_packets(path, kind)
        inside = [p['pts'] for p in pk if start_in_file + 0.5 < p['pts'] < end_in_file - 0.5]
        hole = gwtest.largest_gap(pk)
        f.check(abs(hole - measured) <= 0.5, f'{name} {kind}: a hole of {hole:.2f} s (paused {measured:.2f} s)')
        before = [p for p in pk if p['pts'] < start_in_file]
        after = [p for p in pk if p['pts'] > end_in_file]
        f.check(not inside, f'{name} {kind}: no packet inside the paused span '
                            f'{start_in_file:.2f}..{end_in_file:.2f} ({inside[:5]})')
        f.check(len(before) > 5 and len(after) > 5,
                f'{name} {kind}: media before ({len(before)}) and after ({len(after)}) the pause')


def main():
    gwtest.enter_netns()
    with gwtest.Harness('ops-api-pause', gwtest.build_dir_from_args()) as h:
        f = h.failures
        hooks = opstest.WebhookReceiver()
        secret_file = opstest.write(os.path.join(h.dir, 'webhook-secret'), opstest.SECRET + '\n')
        nginx = rtmp_fixture.NginxRtmp(h.dir, harness=h).start()
        server, port = h.start_signal()
        gw, api_port = opstest.start_gateway(h, port, rooms=[ROOM], pipelines=['record-mkv'],
                                             extra=['--webhook-url', hooks.url,
                                                    '--webhook-secret-file', secret_file])
        api = opstest.Api(api_port)
        peer = h.start_testpeer(port, ROOM, 'pia', 'vp8')
        h.wait_log(peer, r'joined room', 15)

        st, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs', {'pipeline': 'composite-mp4', 'params': SIZE})
        f.check(st == 201, f'POST composite-mp4: 201 ({st} {out})')
        st, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs',
                              {'pipeline': 'rtmp', 'params': dict(SIZE, rtmp_url=nginx.url(KEY))})
        f.check(st == 201, f'POST rtmp: 201 ({st} {out})')
        ids = ['record-mkv-1', 'composite-mp4-1', 'rtmp-1']

        def all_running():
            outs = {o['id']: o for o in api.rooms()[ROOM]['outputs']}
            return outs if all(outs.get(i, {}).get('state') == 'running' and outs[i].get('bytes', 0) > 0
                               for i in ids) else None
        wait_until(all_running, 60, 'the three outputs running')
        time.sleep(3.0)

        # Error cases first: nothing is paused yet.
        st, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs/nosuch-9/pause', None)
        f.check(st == 404 and out.get('error') == 'output_not_found', f'unknown output: 404 ({st} {out})')
        st, out, _ = api.post(f'/v1/rooms/elsewhere/outputs/{ids[0]}/pause', None)
        f.check(st == 404 and out.get('error') == 'room_not_found', f'unknown room: 404 ({st} {out})')
        st, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs/{ids[0]}/resume', None)
        f.check(st == 409 and out.get('error') == 'not_paused', f'resume not paused: 409 ({st} {out})')
        st, out, _ = api.get(f'/v1/rooms/{ROOM}/outputs/{ids[0]}/pause')
        f.check(st == 405, f'GET on pause: 405 ({st})')

        t_pause = time.monotonic()
        for i in ids:
            st, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs/{i}/pause', None)
            f.check(st == 200 and out.get('paused') is True and out.get('paused_at'),
                    f'pause {i}: 200 paused ({st} {out})')
        st, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs/{ids[0]}/pause', None)
        f.check(st == 409 and out.get('error') == 'already_paused', f'double pause: 409 ({st} {out})')
        listed = {o['id']: o for o in api.rooms()[ROOM]['outputs']}
        f.check(all(listed[i].get('paused') is True for i in ids), 'GET /v1/rooms shows them paused')
        bytes_paused = {i: listed[i]['bytes'] for i in ids}
        time.sleep(3.0)
        listed = {o['id']: o for o in api.rooms()[ROOM]['outputs']}
        f.check(listed['rtmp-1']['bytes'] > bytes_paused['rtmp-1'] + 10000,
                f'the stream sends while paused ({bytes_paused["rtmp-1"]} -> {listed["rtmp-1"]["bytes"]})')
        t_resume = time.monotonic()
        for i in ids:
            st, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs/{i}/resume', None)
            f.check(st == 200 and out.get('paused') is False and 'paused_at' not in out,
                    f'resume {i}: 200 not paused ({st} {out})')
        t_resumed = time.monotonic()
        measured = t_resume - t_pause
        time.sleep(4.0)
        for i in ids:
            st, out, _ = api.delete(f'/v1/rooms/{ROOM}/outputs/{i}')
            f.check(st == 200 and out.get('state') == 'finished', f'DELETE {i}: finished ({st} {out})')

        names = wait_until(lambda: (lambda n: n if n.count('output.resumed') >= 3 else None)(hooks.names()),
                           15, 'the resumed webhooks')
        f.check(names.count('output.paused') == 3, f'three output.paused webhooks ({names})')
        paused_hook = [e for e in hooks.parsed() if e['event'] == 'output.paused']
        f.check(all(e.get('data', e).get('paused') is True for e in paused_hook) if paused_hook else False,
                f'output.paused carries paused: true ({paused_hook[:1]})')

        man = h.manifest(ROOM)
        gaps = [g for g in man.get('gaps', []) if g['cause'] == 'paused']
        by_output = {g['output']: g for g in gaps}
        f.check(set(by_output) == {'record-mkv-1', 'composite-mp4-1'},
                f'paused gaps for the two files only: {gaps}')
        files = {}
        for entry in man['files']:
            files.setdefault(entry['template'], entry)
        for oid, template in (('record-mkv-1', 'record-mkv'), ('composite-mp4-1', 'composite-mp4')):
            g = by_output.get(oid)
            if not g or template not in files:
                f.check(False, f'{oid}: gap {g} and file entry {files.get(template)}')
                continue
            span = g['end'] - g['start']
            # The test measured from its first pause call to its first resume call; the gateway's
            # own span lies between that and the last resume call's answer.
            f.check(abs(span - measured) <= 0.5 + (t_resumed - t_resume),
                    f'{oid}: gap {span:.2f} s, measured {measured:.2f} s')
            f.check((g['participant'] is None) == (oid == 'composite-mp4-1'),
                    f'{oid}: gap participant {g["participant"]}')
            entry = files[template]
            path = os.path.join(h.session_dir(ROOM), entry['path'])
            dirs = [x for x in os.listdir(os.path.dirname(path)) if x.endswith(os.path.splitext(path)[1])]
            f.check(len(dirs) == 1, f'{oid}: one file ({dirs})')
            check_file_hole(f, path, g['start'] - entry['start'], g['end'] - entry['start'], oid, measured)

        f.check(nginx.publishes() == 1, f'one RTMP publish across the pause ({nginx.publishes()})')
        recs = nginx.recordings(KEY)
        f.check(len(recs) == 1, f'nginx recorded one stream ({recs})')
        if recs:
            frames = gray_means(recs[-1])
            vpts = [t for t, _ in frames]
            f.check(gwtest.largest_gap([{'pts': t} for t in vpts]) < gwtest.allowance(1.0),
                    f'the stream has frames all along (largest gap {gwtest.largest_gap([{"pts": t} for t in vpts]):.2f} s)')
            # The composite is black too before the participant's first frame: the pause is the
            # longest run of black frames after colour was seen.
            runs, current, seen_colour = [], [], False
            for t, m in frames:
                if m < 24 and seen_colour:
                    current.append(t)
                    continue
                if current:
                    runs.append(current)
                current = []
                seen_colour = seen_colour or m > 60
            if current:
                runs.append(current)
            black = max(runs, key=len) if runs else []
            run = (black[-1] - black[0]) if black else 0.0
            colour = [t for t, m in frames if m > 60]
            f.check(abs(run - measured) <= 1.0, f'black frames for {run:.2f} s (paused {measured:.2f} s)')
            f.check(bool(black) and any(t > black[-1] for t in colour),
                    f'colour after the black ({len(colour)} colour, {len(black)} black frames)')
        h.kill_group(gw, signal.SIGTERM)
        f.check(h.wait_exit(gw, 30) == 0, 'gateway exits 0')
        h.kill_group(peer, signal.SIGTERM)
        nginx.stop()
        hooks.close()


if __name__ == '__main__':
    main()
