#!/usr/bin/env python3
"""A broadcast started and stopped through the control API: `rtmp` (room composite) or, where it is not
shipped, `rtmp-passthrough`, pushed to a local nginx-rtmp.

One H264 test peer is in the room; the gateway is in no room until the
POST. Checks: 201 with the URL redacted; the stream plays from nginx
(H.264 + AAC); /v1/rooms shows it running with bytes moving; DELETE answers
200 finished; an output to a closed port retries (state, `restarts`,
roomcast_output_restarts_total move) and stops cleanly; the secret part of
the URL (a query token) appears in no API answer, no /metrics label and no
line of the gateway's debug log.
"""

import os
import signal
import sys
import time

import opstest
from opstest import gwtest, metric, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'restream'))
import rtmp_fixture  # noqa: E402

ROOM = 'live'
KEY = 'show'
SECRET = 'S3CRETtoken42'


def main():
    gwtest.enter_netns()
    with gwtest.Harness('ops-api-rtmp', gwtest.build_dir_from_args()) as h:
        f = h.failures
        pipes = os.path.join(h.source_dir, 'pipelines')
        template = 'rtmp' if os.path.exists(os.path.join(pipes, 'rtmp.pipeline')) else 'rtmp-passthrough'
        h.say(f'template: {template}')
        nginx = rtmp_fixture.NginxRtmp(h.dir, harness=h).start()
        server, port = h.start_signal()
        gw, api_port = opstest.start_gateway(h, port)
        api = opstest.Api(api_port)
        peer = h.start_testpeer(port, ROOM, 'hana', 'h264', pattern='ball')
        h.wait_log(peer, r'joined room', 10)

        if template == 'rtmp':
            url = nginx.url(KEY) + f'?token={SECRET}'
        else:
            url = f'rtmp://127.0.0.1:{nginx.port}/live?token={SECRET}'
        status, out, headers = api.post(f'/v1/rooms/{ROOM}/outputs', {'pipeline': template, 'params': {'rtmp_url': url}})
        f.check(status == 201, f'POST {template}: 201 ({status} {out})')
        if status != 201:
            raise RuntimeError('cannot start the broadcast')
        oid = out['id']
        f.check(out.get('url', '').startswith(f'rtmp://127.0.0.1:{nginx.port}/') and '***' in out.get('url', ''),
                f'the answer shows the URL redacted: {out.get("url")}')
        answers = [str(out)]

        def running():
            r = api.rooms().get(ROOM)
            o = {x['id']: x for x in r['outputs']}.get(oid) if r else None
            answers.append(str(r))
            return o if o and o['state'] == 'running' and o.get('bytes', 0) > 0 else None
        o = wait_until(running, 30, 'the broadcast running')
        if template == 'rtmp':
            live = nginx.url(KEY)
        else:
            pid = api.rooms()[ROOM]['participants'][0]['id']
            live = nginx.url(pid)
        info = rtmp_fixture.probe_live(live, timeout=15)
        codecs = sorted(s['codec_name'] for s in info['streams'])
        f.check(codecs == ['aac', 'h264'], f'{live} plays H.264 + AAC ({codecs})')
        time.sleep(1.0)
        o2 = running()
        f.check(o2 and o2['bytes'] > o['bytes'], f'bytes sent move ({o["bytes"]} -> {o2 and o2["bytes"]})')
        m, _ = api.metrics(h)
        sent = metric(m, 'roomcast_output_written_bytes_total', output=oid)
        f.check(sent and sent > 0, f'metrics: bytes of the broadcast {sent}')
        f.check(metric(m, 'roomcast_outputs', template=template, state='running') == 1,
                f'metrics: one running {template}')

        status, final, _ = api.delete(f'/v1/rooms/{ROOM}/outputs/{oid}')
        answers.append(str(final))
        f.check(status == 200 and final.get('state') == 'finished', f'DELETE: 200 finished ({status} {final})')
        # A server that is not there: the output retries (state, restarts and
        # the restart counter show it) and still stops cleanly.
        dead = f'rtmp://127.0.0.1:{rtmp_fixture.free_port()}/live/{KEY}?token={SECRET}'
        status, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs', {'pipeline': template, 'params': {'rtmp_url': dead}})
        f.check(status == 201, f'POST {template} to a closed port: 201 ({status} {out})')
        if status == 201:
            answers.append(str(out))
            did = out['id']

            def restarted():
                m, _ = api.metrics(h)
                o = {x['id']: x for x in api.rooms()[ROOM]['outputs']}.get(did)
                answers.append(str(o))
                n = metric(m, 'roomcast_output_restarts_total', template=template) or 0
                return (n, o) if n >= 2 and o and o.get('restarts', 0) >= 2 else None
            n, o = wait_until(restarted, 15, 'restarts of the output to a closed port')
            f.check(o['state'] in ('retrying', 'starting'), f'its state: {o["state"]}, restarts {o["restarts"]}')
            status, final2, _ = api.delete(f'/v1/rooms/{ROOM}/outputs/{did}')
            answers.append(str(final2))
            f.check(status == 200 and final2.get('state') in ('finished', 'failed'),
                    f'DELETE the retrying output: 200 ({status} {final2})')

        _, metrics_text, _ = api.get('/metrics', raw=True)
        f.check(SECRET not in metrics_text, 'the token is in no metrics label')
        f.check(not any(SECRET in a for a in answers), 'the token is in no API answer')
        h.kill_group(gw, signal.SIGTERM)
        f.check(h.wait_exit(gw, 20) == 0, 'gateway exits 0')
        leaked = [line for line in h.log_text(gw).splitlines() if SECRET in line]
        f.check(not leaked, f'the token is in no log line ({leaked[:2]})')
        h.kill_group(peer, signal.SIGTERM)
        nginx.stop()


if __name__ == '__main__':
    main()
