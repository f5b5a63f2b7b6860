#!/usr/bin/env python3
"""Webhooks of the real roomcast: event sequence and HMAC signatures, and a dead receiver that delays nothing.

Run 1: a receiver on 127.0.0.1 that answers 204. Two peers join; an output
is started and stopped through the API; one peer leaves; the room is left.
Checks the events (participant.joined x2, output.started, output.finished
with files, durations, sizes and the manifest path, participant.left) in a
consistent order, every X-Roomcast-Signature against HMAC-SHA256 of the raw
body, and that the headers match the body.

Run 2: a receiver that accepts connections and never answers. The same
start/stop: DELETE of the output takes no more than 100 ms longer than in
run 1, the API stays responsive, the queue shows in /metrics, and SIGTERM
still exits promptly (undelivered events are dropped after a bounded wait).
"""

import json
import os
import signal
import time

import opstest
from opstest import gwtest, metric, wait_until

# A room-scope output whose sink errors after a few frames (a small composite, to stay cheap).
FAILING_TEMPLATE = """\
scope: room
description: test output that fails after a few frames
video-codecs: VP8
param: width int default=320
param: height int default=240
param: framerate int default=10
---
identity name=video error-after=5 ! fakesink sync=false async=false
"""


def start_stop(h, f, api, room, label):
    """Starts record-mkv in room, waits for two files, records 2 s, stops it; returns (DELETE s, final)."""
    status, out, _ = api.post(f'/v1/rooms/{room}/outputs', {'pipeline': 'record-mkv'})
    f.check(status == 201, f'{label}: POST record-mkv 201 ({status} {out})')
    if status != 201:
        raise RuntimeError('cannot start an output')
    oid = out['id']

    def running():
        r = api.rooms().get(room)
        o = {x['id']: x for x in r['outputs']}.get(oid) if r else None
        return o if o and o['state'] == 'running' and len(o.get('files', [])) == 2 else None
    wait_until(running, 20, f'{label}: both participants recorded')
    time.sleep(2.0)
    t = time.monotonic()
    status, final, _ = api.delete(f'/v1/rooms/{room}/outputs/{oid}')
    took = time.monotonic() - t
    f.check(status == 200 and final.get('state') == 'finished', f'{label}: DELETE 200 finished ({status})')
    h.say(f'{label}: DELETE took {took * 1000:.1f} ms')
    return took, final


def main():
    gwtest.enter_netns()
    with gwtest.Harness('ops-webhooks-gateway', gwtest.build_dir_from_args()) as h:
        f = h.failures
        secret_file = opstest.write(os.path.join(h.dir, 'webhook-secret'), opstest.SECRET + '\n')
        server, port = h.start_signal()

        # ----- run 1: a receiver that answers -----
        good = opstest.WebhookReceiver()
        tpl_dir = os.path.join(h.dir, 'templates')
        opstest.write(os.path.join(tpl_dir, 'fail-after.pipeline'), FAILING_TEMPLATE)
        gw, api_port = opstest.start_gateway(h, port, extra=['--webhook-url', good.url,
                                                            '--webhook-secret-file', secret_file,
                                                            '--pipelines-dir', tpl_dir])
        api = opstest.Api(api_port)
        alice = h.start_testpeer(port, 'hooks', 'alice', 'vp8')
        bob = h.start_testpeer(port, 'hooks', 'bob', 'vp8', pattern='ball')
        h.wait_log(alice, r'joined room', 10)
        h.wait_log(bob, r'joined room', 10)
        took_good, final = start_stop(h, f, api, 'hooks', 'good receiver')
        h.kill_group(bob, signal.SIGTERM)
        wait_until(lambda: 'participant.left' in good.names(), 15, 'participant.left')
        status, _, _ = api.delete('/v1/rooms/hooks')
        f.check(status == 200, f'DELETE the room: 200 ({status})')
        wait_until(lambda: 'output.finished' in good.names(), 10, 'output.finished')

        events = good.parsed()
        names = [e['event'] for e in events]
        h.say(f'events: {names}')
        f.check(names.count('participant.joined') == 2, f'two participant.joined ({names})')
        f.check(names.count('output.started') == 1 and names.count('output.finished') == 1,
                f'one output.started and one output.finished ({names})')
        first_start = names.index('output.started')
        f.check(all(i < first_start for i, n in enumerate(names) if n == 'participant.joined'),
                'participants joined before the first output started')
        f.check(names.index('output.finished') > first_start, 'output.finished after output.started')
        joined = {e['data'].get('name') for e in events if e['event'] == 'participant.joined'}
        f.check(joined == {'alice', 'bob'}, f'participant.joined names {joined}')
        left = [e['data'] for e in events if e['event'] == 'participant.left']
        f.check(any(d.get('name') == 'bob' and d.get('room') == 'hooks' for d in left),
                f'participant.left for bob ({left})')
        fin = [e['data'] for e in events if e['event'] == 'output.finished' and e['data'].get('id') == final['id']]
        if f.check(len(fin) == 1, 'output.finished for the stopped output'):
            d = fin[0]
            files = d.get('files', [])
            f.check(len(files) == 2 and all(os.path.isfile(x['path']) and x['bytes'] == os.path.getsize(x['path'])
                                            and x.get('duration_seconds', 0) > 1.0 for x in files),
                    f'output.finished: files with sizes and durations ({files})')
            f.check(d.get('manifest', '').endswith('manifest.json') and os.path.isfile(d.get('manifest', '')),
                    f'output.finished: manifest path {d.get("manifest")}')
            f.check(d.get('room') == 'hooks' and d.get('template') == 'record-mkv' and d.get('state') == 'finished',
                    'output.finished: room, template, state')
        for e, raw in zip(events, good.events):
            f.check(opstest.signature_ok(raw), f'{e["event"]}: X-Roomcast-Signature is HMAC-SHA256 of the body')
            f.check(raw['headers'].get('x-roomcast-event') == e['event']
                    and raw['headers'].get('x-roomcast-delivery') == e['id']
                    and raw['headers'].get('x-roomcast-timestamp', '').isdigit()
                    and raw['headers'].get('content-type', '').startswith('application/json'),
                    f'{e["event"]}: event, delivery, timestamp and content-type headers')
        f.check(not opstest.signature_ok(good.events[0], secret='wrong-secret'),
                'a wrong secret does not verify')
        ids = [e['id'] for e in events]
        f.check(len(set(ids)) == len(ids), 'every event has its own delivery id')
        m, _ = api.metrics(h)
        f.check((metric(m, 'roomcast_webhook_deliveries_total') or 0) >= len(events),
                f'metrics: deliveries counted ({metric(m, "roomcast_webhook_deliveries_total")})')

        # The left room's per-participant and per-output series are gone.
        m, _ = api.metrics(h)
        stale = [s['labels'] for name in ('roomcast_rtp_packets_received_total', 'roomcast_output_written_bytes_total')
                 for s in m.get(name, {}).get('samples', []) if s['labels'].get('room') == 'hooks']
        f.check(not stale, f'metrics: no series of the left room remain ({stale})')

        # A room output that breaks: output.failed, the others unaffected.
        before = len(good.events)
        status, out, _ = api.post('/v1/rooms/hooks/outputs', {'pipeline': 'fail-after'})
        f.check(status == 201, f'POST fail-after: 201 ({status} {out})')
        wait_until(lambda: 'output.failed' in good.names(), 20, 'output.failed')
        failed = [(e, raw) for e, raw in zip(good.parsed(), good.events)][before:]
        failed = [(e, raw) for e, raw in failed if e['event'] == 'output.failed']
        if f.check(len(failed) == 1, 'one output.failed'):
            e, raw = failed[0]
            d = e['data']
            f.check(d.get('template') == 'fail-after' and d.get('room') == 'hooks'
                    and d.get('id') == out.get('id') and d.get('reason'),
                    f'output.failed names room, template, id and a reason ({d})')
            f.check(opstest.signature_ok(raw), 'output.failed: signature verifies')
        r = api.rooms().get('hooks')
        o = {x['id']: x for x in r['outputs']}.get(out.get('id')) if r else None
        f.check(o is not None and o['state'] == 'failed', f'the API shows the output failed ({o})')
        h.kill_group(gw, signal.SIGTERM)
        f.check(h.wait_exit(gw, 20) == 0, 'run 1: gateway exits 0')
        h.kill_group(alice, signal.SIGTERM)
        good.close()

        # ----- run 2: a receiver that never answers -----
        dead = opstest.WebhookReceiver(hang=True)
        gw2, api_port2 = opstest.start_gateway(h, port, label='gateway-dead-receiver',
                                               extra=['--webhook-url', dead.url,
                                                      '--webhook-secret-file', secret_file])
        api2 = opstest.Api(api_port2)
        carol = h.start_testpeer(port, 'hooks2', 'carol', 'vp8')
        dave = h.start_testpeer(port, 'hooks2', 'dave', 'vp8', pattern='ball')
        h.wait_log(carol, r'joined room', 10)
        h.wait_log(dave, r'joined room', 10)
        took_dead, _ = start_stop(h, f, api2, 'hooks2', 'dead receiver')
        f.check(took_dead <= took_good + 0.1,
                f'a dead receiver delays the stop by < 100 ms ({took_dead * 1000:.0f} ms vs {took_good * 1000:.0f} ms)')
        t = time.monotonic()
        status, _, _ = api2.get('/healthz')
        f.check(status == 200 and time.monotonic() - t < 0.1, 'the API answers at once meanwhile')
        m, _ = api2.metrics(h)
        queued = metric(m, 'roomcast_webhook_queue_length')
        f.check(queued is not None and queued >= 1, f'metrics: events waiting for the dead receiver ({queued})')
        f.check(len(dead.conns) >= 1, f'the dead receiver got a connection ({len(dead.conns)})')
        t = time.monotonic()
        h.kill_group(gw2, signal.SIGTERM)
        f.check(h.wait_exit(gw2, 20) == 0, 'run 2: gateway exits 0')
        f.check(time.monotonic() - t < 6.0, f'SIGTERM exit within 6 s despite the dead receiver ({time.monotonic() - t:.1f} s)')
        log = h.log_text(gw2)
        f.check('undelivered at exit' in log, 'the undelivered events are logged at exit')
        for p in (carol, dave):
            h.kill_group(p, signal.SIGTERM)
        dead.close()


if __name__ == '__main__':
    main()
