#!/usr/bin/env python3
"""The control API and /metrics of the real roomcast, with two test peers (VP8, H264) in a room.

Checks, in one run inside a loopback-only network namespace:
- start-up refusals: a non-loopback API without a token exits 78, an API
  address in use 71, no room with the API off 64, each naming the problem;
- auth: no token and a wrong token get 401 (with WWW-Authenticate) on every route;
- every endpoint and error status: /healthz, /metrics, GET /v1/rooms, POST
  .../outputs (201 + Location; 400 invalid_json / invalid_body /
  unknown_pipeline / invalid_param; 409 conflict; 413; 415), DELETE of an
  output (200 final state; 404 output_not_found / room_not_found), DELETE of
  a room (200 with its final outputs), 404 not_found, 405, 503 shutting_down
  after SIGTERM;
- hostile bodies (huge, deep, wrong types, unknown template, undeclared
  parameter, file:// and path-escaping URLs where only rtmp:// is allowed)
  leave the running output untouched (same id, still running, bytes growing);
- an output started from the API while both peers are in the room, stopped
  with DELETE: two finalized files whose ffprobe'd codecs, keyframe start,
  durations and sizes match what the API returned;
- /metrics parses with the strict exposition parser and its values move:
  rooms, participants, outputs by template/state, written bytes, packets,
  keyframe requests, API requests, process CPU and RSS, and (the room server killed and
  restarted) signaling connected/reconnects, with /healthz going
  connecting -> connected.
"""

import datetime
import os
import signal
import subprocess
import time

import opstest
from opstest import gwtest, metric, wait_until

ROOM = 'api'


def main():
    gwtest.enter_netns()
    with gwtest.Harness('ops-api-gateway', gwtest.build_dir_from_args()) as h:
        f = h.failures
        tpl_dir = os.path.join(h.dir, 'templates')
        opstest.write(os.path.join(tpl_dir, 'test-url.pipeline'), opstest.URL_TEMPLATE)
        server, port = h.start_signal()
        gw, api_port = opstest.start_gateway(h, port, extra=['--pipelines-dir', tpl_dir])
        api = opstest.Api(api_port)

        # ----- start-up refusals of the real binary -----
        base = [h.bin('gateway/roomcast'), '--config', os.path.join(h.dir, 'empty.conf'),
                '--recordings-dir', h.recordings, '--signaling-url', f'ws://127.0.0.1:{port}/ws']
        for label, extra, code, text in [
                ('a non-loopback API without a token', ['--api-listen', '0.0.0.0:0'], 78, 'not a loopback'),
                ('an API address in use', ['--api-listen', f'127.0.0.1:{api_port}'], 71, 'cannot listen'),
                ('no room and no API', ['--api-listen', 'none'], 64, 'nothing to record')]:
            out = subprocess.run(base + extra, capture_output=True, text=True, timeout=30)
            f.check(out.returncode == code and text in out.stderr,
                    f'{label}: exit {code} ({out.returncode}: {out.stderr.strip()[-160:]})')

        # ----- auth -----
        for method, path in [('GET', '/healthz'), ('GET', '/metrics'), ('GET', '/v1/rooms'),
                             ('POST', f'/v1/rooms/{ROOM}/outputs'), ('DELETE', f'/v1/rooms/{ROOM}'),
                             ('DELETE', f'/v1/rooms/{ROOM}/outputs/x')]:
            body = {'pipeline': 'record-mkv'} if method == 'POST' else None
            for label, token in [('no token', None), ('wrong token', 'not-the-token'),
                                 ('token prefix', opstest.TOKEN[:-1])]:
                status, out, headers = api.request(method, path, body=body, token=token)
                f.check(status == 401 and isinstance(out, dict) and out.get('error') == 'unauthorized'
                        and 'Bearer' in headers.get('WWW-Authenticate', ''),
                        f'{method} {path} with {label}: 401 unauthorized ({status} {out})')
        status, out, _ = api.request('GET', '/healthz', headers={'Authorization': f'Basic {opstest.TOKEN}'},
                                     token=None)
        f.check(status == 401, f'a Basic header instead of Bearer: 401 ({status})')
        f.check(not os.listdir(h.recordings) if os.path.isdir(h.recordings) else True,
                'refused requests joined nothing')

        # ----- reads before any room -----
        status, out, _ = api.get('/healthz')
        f.check(status == 200 and out.get('status') == 'ok' and out.get('signaling') == 'disconnected',
                f'GET /healthz: 200 ok, signaling disconnected without rooms ({status} {out})')
        status, out, _ = api.get('/v1/rooms')
        f.check(status == 200 and out == {'rooms': []}, f'GET /v1/rooms: no rooms yet ({status} {out})')
        status, out, _ = api.get('/nope')
        f.check(status == 404 and out.get('error') == 'not_found', f'GET /nope: 404 not_found ({status} {out})')
        status, out, _ = api.delete(f'/v1/rooms/{ROOM}')
        f.check(status == 404 and out.get('error') == 'room_not_found',
                f'DELETE a room the gateway is not in: 404 room_not_found ({status} {out})')
        status, out, _ = api.delete(f'/v1/rooms/{ROOM}/outputs/record-mkv-1')
        f.check(status == 404 and out.get('error') == 'room_not_found',
                f'DELETE an output of a room the gateway is not in: 404 ({status} {out})')
        status, out, headers = api.request('PUT', '/v1/rooms')
        f.check(status == 405 and out.get('error') == 'method_not_allowed' and 'GET' in headers.get('Allow', ''),
                f'PUT /v1/rooms: 405 with Allow ({status} {out})')
        status, out, _ = api.get(f'/v1/rooms/{ROOM}/outputs')
        f.check(status == 405, f'GET .../outputs: 405 ({status})')
        families, headers = api.metrics(h)
        f.check(headers.get('Content-Type', '').startswith('text/plain; version=0.0.4'),
                f'/metrics content type {headers.get("Content-Type")}')
        f.check(metric(families, 'roomcast_rooms') == 0 and metric(families, 'roomcast_participants') == 0,
                'metrics: no rooms, no participants at first')

        # ----- two peers, then an output from the API (the gateway joins the room) -----
        alice = h.start_testpeer(port, ROOM, 'alice', 'vp8', pattern='ball')
        bob = h.start_testpeer(port, ROOM, 'bob', 'h264', pattern='smpte')
        h.wait_log(alice, r'joined room', 10)
        h.wait_log(bob, r'joined room', 10)
        status, out, headers = api.post(f'/v1/rooms/{ROOM}/outputs', {'pipeline': 'record-mkv'})
        f.check(status == 201, f'POST record-mkv: 201 ({status} {out})')
        if status != 201:
            raise RuntimeError('cannot start an output; giving up')
        oid = out['id']
        f.check(headers.get('Location') == f'/v1/rooms/{ROOM}/outputs/{oid}',
                f'Location header {headers.get("Location")}')
        f.check(out.get('template') == 'record-mkv' and out.get('scope') == 'participant'
                and out.get('state') in ('starting', 'running'),
                f'the new output: template, scope, state ({out})')

        def running():
            room = api.rooms().get(ROOM)
            if not room:
                return None
            outs = {o['id']: o for o in room['outputs']}
            o = outs.get(oid)
            if len(room['participants']) == 2 and o and o['state'] == 'running' and o.get('bytes', 0) > 0 \
                    and len(o.get('files', [])) == 2:
                return room
            return None
        room = wait_until(running, 20, 'both participants recorded by the API output')
        t_running = time.monotonic()
        names = sorted(p.get('name', '') for p in room['participants'])
        f.check(names == ['alice', 'bob'], f'GET /v1/rooms: participants {names}')
        for p in room['participants']:
            f.check(p.get('joined_at', '').endswith('Z') and isinstance(p.get('codecs'), list)
                    and isinstance(p.get('packets_lost'), int) and isinstance(p.get('receive_bitrate_bps'), int),
                    f'participant {p.get("name")}: joined_at, codecs, packets_lost, bitrate ({p})')
        o = {x['id']: x for x in room['outputs']}[oid]
        f.check(o.get('started_at', '').endswith('Z') and 'url' not in o,
                f'running output: started_at, no url ({o})')
        status, out, _ = api.get('/healthz')
        f.check(out.get('signaling') == 'connected', f'/healthz: signaling connected ({out})')

        time.sleep(1.5)
        m1, _ = api.metrics(h)
        f.check(metric(m1, 'roomcast_rooms') == 1, f'metrics: 1 room ({metric(m1, "roomcast_rooms")})')
        f.check(metric(m1, 'roomcast_participants') == 2,
                f'metrics: 2 participants ({metric(m1, "roomcast_participants")})')
        f.check(metric(m1, 'roomcast_outputs', template='record-mkv', state='running') == 1,
                'metrics: one running record-mkv output')
        bytes1 = metric(m1, 'roomcast_output_written_bytes_total', room=ROOM, output=oid)
        f.check(bytes1 and bytes1 > 0, f'metrics: bytes written {bytes1}')
        f.check((metric(m1, 'process_cpu_seconds_total') or 0) > 0
                and (metric(m1, 'process_resident_memory_bytes') or 0) > 1e6,
                'metrics: process CPU seconds and RSS')
        f.check((metric(m1, 'roomcast_api_requests_total', code='401') or 0) >= 18,
                'metrics: refused API requests counted by code')
        f.check(metric(m1, 'roomcast_signaling_connected') == 1, 'metrics: signaling connected')

        # ----- hostile bodies, while the output runs -----
        path = f'/v1/rooms/{ROOM}/outputs'
        hostile = [
            ('a 70 KiB body', b'{"pipeline": "record-mkv", "params": {"label": "' + b'x' * 70000 + b'"}}',
             413, 'body_too_large'),
            ('deeply nested JSON', '[' * 5000 + ']' * 5000, 400, 'invalid_json'),
            ('deep params', '{"pipeline":"record-mkv","params":' + '{"a":' * 40 + '1' + '}' * 40 + '}',
             400, 'invalid_json'),
            ('not JSON', '{"pipeline": ', 400, 'invalid_json'),
            ('a JSON array', [], 400, 'invalid_body'),
            ('pipeline as a number', {'pipeline': 5}, 400, 'invalid_body'),
            ('no pipeline', {'params': {}}, 400, 'invalid_body'),
            ('params as a list', {'pipeline': 'record-mkv', 'params': ['x']}, 400, 'invalid_body'),
            ('an unknown field', {'pipeline': 'record-mkv', 'launch': 'filesrc location=/etc/shadow'},
             400, 'invalid_body'),
            ('an unknown template', {'pipeline': 'no-such-template'}, 400, 'unknown_pipeline'),
            ('a path as template', {'pipeline': '../../etc/passwd'}, 400, 'unknown_pipeline'),
            ('an undeclared parameter', {'pipeline': 'record-mkv', 'params': {'location': '/etc/x'}},
             400, 'invalid_param'),
            ('a file:// URL', {'pipeline': 'test-url', 'params': {'rtmp_url': 'file:///etc/passwd'}},
             400, 'invalid_param'),
            ('a path-escaping URL', {'pipeline': 'test-url', 'params': {'rtmp_url': 'rtmp://127.0.0.1/live/../../x'}},
             400, 'invalid_param'),
            ('an encoded path escape', {'pipeline': 'test-url', 'params': {'rtmp_url': 'rtmp://127.0.0.1/live/%2e%2e/x'}},
             400, 'invalid_param'),
            ('an http URL', {'pipeline': 'test-url', 'params': {'rtmp_url': 'http://127.0.0.1/x'}},
             400, 'invalid_param'),
            ('a URL as a number', {'pipeline': 'test-url', 'params': {'rtmp_url': 5}}, 400, 'invalid_param'),
            ('a missing required URL', {'pipeline': 'test-url', 'params': {}}, 400, 'invalid_param'),
            ('a string escaping its charset', {'pipeline': 'test-url',
                                               'params': {'rtmp_url': 'rtmp://127.0.0.1/live/k', 'label': '../x'}},
             400, 'invalid_param'),
        ]
        if os.path.exists(os.path.join(h.source_dir, 'pipelines', 'rtmp.pipeline')):
            hostile += [
                ('rtmp: a file:// URL', {'pipeline': 'rtmp', 'params': {'rtmp_url': 'file:///etc/passwd'}},
                 400, 'invalid_param'),
                ('rtmp: a path-escaping URL', {'pipeline': 'rtmp', 'params': {'rtmp_url': 'rtmp://127.0.0.1/../../x'}},
                 400, 'invalid_param'),
                ('rtmp: an undeclared parameter', {'pipeline': 'rtmp', 'params': {'rtmp_url': 'rtmp://127.0.0.1/live/k',
                                                                                   'location': '/tmp/x'}},
                 400, 'invalid_param'),
                ('rtmp: a preset it does not list', {'pipeline': 'rtmp', 'params': {
                    'rtmp_url': 'rtmp://127.0.0.1/live/k', 'preset': 'placebo'}},
                 400, 'invalid_param'),
            ]
        for label, body, want_status, want_code in hostile:
            status, out, _ = api.post(path, body)
            f.check(status == want_status and isinstance(out, dict) and out.get('error') == want_code
                    and isinstance(out.get('message'), str),
                    f'POST {label}: {want_status} {want_code} ({status} {str(out)[:160]})')
        status, out, _ = api.post(path, {'pipeline': 'record-mkv'}, headers={'Content-Type': 'text/plain'})
        f.check(status == 415 and out.get('error') == 'unsupported_media_type', f'POST as text/plain: 415 ({status})')
        status, out, _ = api.post(path, {'pipeline': 'record-mkv'})
        f.check(status == 409 and out.get('error') == 'conflict',
                f'POST the same output again: 409 conflict ({status} {out})')
        status, out, _ = api.delete(f'/v1/rooms/{ROOM}/outputs/no-such-output')
        f.check(status == 404 and out.get('error') == 'output_not_found',
                f'DELETE an unknown output: 404 output_not_found ({status} {out})')
        status, out, _ = api.delete(f'/v1/rooms/{ROOM}/outputs/..')
        f.check(status == 404, f'DELETE output "..": 404 ({status} {out})')
        status, out, _ = api.delete('/v1/rooms/not%20a%20room')
        f.check(status == 404 and out.get('error') == 'room_not_found', f'DELETE a bad room name: 404 ({status})')

        time.sleep(1.0)
        room = api.rooms()[ROOM]
        outs = room['outputs']
        f.check([o['id'] for o in outs] == [oid] and outs[0]['state'] == 'running',
                f'after the hostile bodies: still the one output, running ({[(o["id"], o["state"]) for o in outs]})')
        m2, _ = api.metrics(h)
        bytes2 = metric(m2, 'roomcast_output_written_bytes_total', room=ROOM, output=oid)
        f.check(bytes2 > bytes1, f'metrics: bytes written moved {bytes1} -> {bytes2}')
        packets = metric(m2, 'roomcast_rtp_packets_received_total', room=ROOM)
        f.check(packets is not None and packets > 0, f'metrics: RTP packets received {packets}')
        f.check((metric(m2, 'roomcast_api_requests_total', code='400') or 0) >= 15,
                'metrics: 400s counted')
        keyframes = metric(m2, 'roomcast_keyframe_requests_total', room=ROOM)
        f.check(keyframes is not None and keyframes >= 1, f'metrics: keyframe requests {keyframes}')

        # ----- stop it: the final state matches the files -----
        time.sleep(max(0.0, 6.0 - (time.monotonic() - t_running)))
        t_delete = time.monotonic()
        wall_delete = time.time()
        status, out, _ = api.delete(f'/v1/rooms/{ROOM}/outputs/{oid}')
        took = time.monotonic() - t_delete
        f.check(status == 200 and out.get('state') == 'finished', f'DELETE the output: 200 finished ({status} {out})')
        h.say(f'DELETE took {took * 1000:.0f} ms')
        files = out.get('files', []) if isinstance(out, dict) else []
        f.check(len(files) == 2, f'two files in the final state ({len(files)})')
        by_codec = {}
        for entry in files:
            p = entry.get('path', '')
            exists = os.path.isfile(p)
            f.check(exists, f'{p} exists')
            if not exists:
                continue
            f.check(entry.get('bytes') == os.path.getsize(p),
                    f'{os.path.basename(p)}: bytes {entry.get("bytes")} == size on disk {os.path.getsize(p)}')
            info = gwtest.probe_streams(p)
            video = [s['codec_name'] for s in info['streams'] if s['codec_type'] == 'video']
            by_codec[video[0] if video else None] = (p, entry)
        # From the output's first buffer (started_at, wall clock) to the DELETE.
        started = datetime.datetime.fromisoformat(o['started_at'].replace('Z', '+00:00')).timestamp()
        present = wall_delete - started
        for codec in ('vp8', 'h264'):
            if codec not in by_codec:
                f.check(False, f'a {codec} file')
                continue
            p, entry = by_codec[codec]
            info, vpk, apk = gwtest.check_recording(f, p, codec)
            media = max(gwtest.media_end(vpk), gwtest.media_end(apk))
            f.check(abs(entry.get('duration_seconds', 0) - media) < 0.5,
                    f'{codec}: returned duration {entry.get("duration_seconds"):.2f} s ~ ffprobe {media:.2f} s')
            f.check(present - 1.5 < media <= present + 0.5,
                    f'{codec}: {media:.2f} s of media for {present:.2f} s from started_at to DELETE')
            ok, err = gwtest.decodes(p)
            f.check(ok, f'{codec}: decodes cleanly {err}')
        status, again, _ = api.delete(f'/v1/rooms/{ROOM}/outputs/{oid}')
        f.check(status == 200 and again.get('state') == 'finished', f'DELETE it again: 200, still finished ({status})')
        m3, _ = api.metrics(h)
        f.check(metric(m3, 'roomcast_outputs', template='record-mkv', state='finished') == 1
                and metric(m3, 'roomcast_outputs', template='record-mkv', state='running') == 0,
                'metrics: the output moved from running to finished')

        # ----- a second output, then leave the room -----
        status, out, _ = api.post(path, {'pipeline': 'record-mkv'})
        f.check(status == 201 and out.get('id') != oid, f'a new record-mkv output after the first finished: 201 ({status} {out})')
        time.sleep(2.0)
        status, out, _ = api.delete(f'/v1/rooms/{ROOM}')
        f.check(status == 200 and out.get('room') == ROOM and out.get('outputs')
                and all(o['state'] in ('finished', 'failed') for o in out['outputs']),
                f'DELETE the room: 200 with its final outputs ({status} {str(out)[:300]})')
        second = [o for o in (out.get('outputs') or []) if o.get('id') != oid]
        f.check(len(second) == 1 and len(second[0].get('files', [])) == 2
                and all(x.get('duration_seconds', 0) > 1.0 and os.path.isfile(x['path']) for x in second[0]['files']),
                f'the second output (started while both streamed) recorded both for its 2 s '
                f'({[(os.path.basename(x["path"]), x.get("duration_seconds")) for x in (second[0]["files"] if second else [])]})')
        f.check(api.rooms() == {}, 'GET /v1/rooms: the room is gone')
        m4, _ = api.metrics(h)
        f.check(metric(m4, 'roomcast_rooms') == 0 and metric(m4, 'roomcast_participants') == 0,
                'metrics: back to 0 rooms and participants')

        # ----- 503 while stopping -----
        status, out, _ = api.post(path, {'pipeline': 'record-mkv'})
        f.check(status == 201, f'join again with an output: 201 ({status})')
        wait_until(lambda: any(o['state'] == 'running' for o in api.rooms().get(ROOM, {}).get('outputs', [])),
                   20, 'the new output running')

        # ----- the room server restarts: health and the reconnect counter follow -----
        m5, _ = api.metrics(h)
        reconnects0 = metric(m5, 'roomcast_signaling_reconnects_total')
        h.kill_group(server, signal.SIGKILL)
        h.wait_exit(server, 5)
        wait_until(lambda: api.get('/healthz')[1].get('signaling') == 'connecting', 10, 'signaling connecting')
        m6, _ = api.metrics(h)
        f.check(metric(m6, 'roomcast_signaling_connected') == 0, 'metrics: signaling not connected meanwhile')
        server, _ = h.start_signal(port=port)
        wait_until(lambda: api.get('/healthz')[1].get('signaling') == 'connected', 20, 'signaling connected again')
        m7, _ = api.metrics(h)
        f.check(metric(m7, 'roomcast_signaling_reconnects_total') > reconnects0,
                f'metrics: signaling reconnects {reconnects0} -> {metric(m7, "roomcast_signaling_reconnects_total")}')
        f.check(metric(m7, 'roomcast_signaling_connected') == 1, 'metrics: signaling connected again')

        h.kill_group(gw, signal.SIGTERM)
        seen = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                status, out, _ = api.post(path, {'pipeline': 'record-webm'}, timeout=2)
            except OSError:
                break
            seen.append((status, out.get('error') if isinstance(out, dict) else out))
            if status == 503:
                break
        f.check(seen and seen[-1] == (503, 'shutting_down'), f'POST after SIGTERM: 503 shutting_down ({seen[-3:]})')
        f.check(h.wait_exit(gw, 20) == 0, 'gateway exits 0 on SIGTERM')
        f.check('every recording is finalized' in h.log_text(gw), 'gateway finalized every output')
        for p in (alice, bob):
            h.kill_group(p, signal.SIGTERM)


if __name__ == '__main__':
    main()
