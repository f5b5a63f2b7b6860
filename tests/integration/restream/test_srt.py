#!/usr/bin/env python3
"""The room composite over SRT (template `srt`) to real srt-live-transmit receivers, started through the control API.

One VP8 test peer is in room 'cast', recorded by record-mkv. Two receivers
listen on loopback, both with a passphrase:
- `good`: the output started with the right passphrase. Checks: 201 with the
  URL shown (no secret in an srt URL); the output runs and its bytes move;
  the TS the receiver writes has H.264 (640x360) + AAC and keeps growing;
  the receiver is stopped for 3 s and started again on the same port: the
  new TS receives media again (within 12 s), H.264 + AAC, the output running
  (restarts >= 1: the gateway retries it; srtsink's own auto-reconnect is
  off).
- `locked`: an output started with a wrong passphrase. Checks: it never
  runs; the API shows it retrying (or failed) with a reason naming SRT; the
  gateway logs the failure with the output's id; the receiver logged the
  rejection (its own words: BADSECRET / passphrase); the good output and
  the participant's recording go on meanwhile.
- URLs with a query (srt://...?passphrase=... or ?mode=listener), a
  passphrase shorter than 10 characters, a latency out of range: 400, no
  output.
- Neither passphrase ever appears in an API answer or in the gateway's log
  (debug level); the record-mkv file of the peer has no gap.
"""

import os
import signal
import sys
import time

from restream_test import gwtest, stream_summary, wait_count
import srt_fixture

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'ops'))
import opstest  # noqa: E402
from opstest import wait_until  # noqa: E402

ROOM = 'cast'
GOOD_PASS = 'correct-horse-77'
WRONG_PASS = 'battery-staple-99'
LOCKED_PASS = 'the-real-one-123'
WIDTH, HEIGHT = 640, 360
DOWN_SECONDS = 3.0
RESUME_LIMIT = 12.0  # networkOutputBackoff() grows past 2 s after a few failures; generous under load


def ts_summary(f, path, what):
    try:
        info = gwtest.probe_streams(path)
    except RuntimeError as e:
        f.check(False, f'{what}: ffprobe reads {os.path.basename(path)} ({e})')
        return None
    summary = stream_summary(info)
    f.check(summary == ('h264', WIDTH, HEIGHT, 'aac'), f'{what}: MPEG-TS with H.264 {WIDTH}x{HEIGHT} + AAC: {summary}')
    f.check(info['format'].get('format_name') == 'mpegts', f'{what}: format {info["format"].get("format_name")}')
    vpk = gwtest.probe_packets(path, 'v')
    if vpk:
        f.check(any(p['key'] for p in vpk), f'{what}: has a keyframe')
        f.check(gwtest.largest_gap(vpk) < gwtest.allowance(0.5), f'{what}: frames keep coming (largest gap {gwtest.largest_gap(vpk):.2f} s)')
    return summary


def main():
    srt_fixture.require()
    gwtest.enter_netns()
    with gwtest.Harness('restream-srt', gwtest.build_dir_from_args()) as h:
        f = h.failures
        good = srt_fixture.SrtReceiver(h.dir, 'good', passphrase=GOOD_PASS, harness=h).start()
        locked = srt_fixture.SrtReceiver(h.dir, 'locked', passphrase=LOCKED_PASS, harness=h).start()
        server, port = h.start_signal()
        gw, api_port = opstest.start_gateway(h, port, rooms=(ROOM,), pipelines=('record-mkv',))
        api = opstest.Api(api_port)
        peer = h.start_testpeer(port, ROOM, 'alice', 'vp8', pattern='ball')
        h.wait_log(peer, r'joined room', 15)
        wait_count(h, gw, r'keyframe gate open', 1, 20)
        answers = []

        # ----- bad parameters: 400, nothing started -----
        size = {'width': WIDTH, 'height': HEIGHT}
        for params, what in (({'url': good.url() + f'?passphrase={GOOD_PASS}'}, 'a query in the URL'),
                             ({'url': good.url() + '?mode=listener'}, 'mode= in the URL'),
                             ({'url': 'srt://127.0.0.1'}, 'no port'),
                             ({'url': good.url(), 'passphrase': 'short'}, 'a 5-character passphrase'),
                             ({'url': good.url(), 'latency': 5}, 'latency 5 ms')):
            status, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs', {'pipeline': 'srt', 'params': {**params, **size}})
            answers.append(str(out))
            f.check(status == 400, f'POST srt with {what}: 400 ({status} {out})')

        # ----- the good output -----
        status, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs', {'pipeline': 'srt', 'params': {
            'url': good.url(), 'passphrase': GOOD_PASS, 'latency': 120, **size}})
        answers.append(str(out))
        f.check(status == 201, f'POST srt: 201 ({status} {out})')
        if status != 201:
            raise RuntimeError('cannot start the srt output')
        gid = out['id']
        f.check(out.get('url') == good.url(), f'the answer shows the URL {out.get("url")}')

        # ----- the wrong passphrase -----
        status, out, _ = api.post(f'/v1/rooms/{ROOM}/outputs', {'pipeline': 'srt', 'params': {
            'url': locked.url(), 'passphrase': WRONG_PASS, **size}})
        answers.append(str(out))
        f.check(status == 201, f'POST srt with the wrong passphrase: 201, it fails when it connects ({status} {out})')
        lid = out.get('id')

        def output(oid):
            r = api.rooms().get(ROOM) or {}
            answers.append(str(r))
            return {x['id']: x for x in r.get('outputs', [])}.get(oid)

        def good_running():
            o = output(gid)
            return o if o and o['state'] == 'running' and o.get('bytes', 0) > 0 else None
        o1 = wait_until(good_running, 30, 'the srt output running')
        grown = wait_until(lambda: good.size() > 200_000 or None, 30, 'the receiver getting TS')
        f.check(bool(grown), f'the receiver got {good.size()} bytes')

        if lid:
            def locked_failing():
                o = output(lid)
                return o if o and o['state'] in ('retrying', 'failed') and o.get('reason') else None
            lo = wait_until(locked_failing, 30, 'the wrong-passphrase output failing')
            h.say(f'wrong passphrase: state {lo["state"]}, reason {lo["reason"]!r}')
            f.check('SRT' in lo['reason'] or 'srt' in lo['reason'],
                    f'the API gives a reason that names SRT: {lo["reason"]!r}')
            f.check(lo.get('bytes', 0) == 0 or lo['state'] != 'running', 'the wrong-passphrase output never runs')
            rejected = wait_until(lambda: ('BADSECRET' in locked.log_text() or 'passphrase' in locked.log_text()) or None,
                                  15, 'the receiver rejecting the passphrase')
            f.check(bool(rejected), 'srt-live-transmit logged the bad passphrase')
            f.check(locked.size() == 0, f'the locked receiver got nothing ({locked.size()} bytes)')
        o2 = good_running()
        f.check(o2 is not None and o2['bytes'] > o1['bytes'],
                f'the good output kept running beside it ({o1["bytes"]} -> {o2 and o2["bytes"]} bytes)')
        time.sleep(2)
        first_size = good.size()

        # ----- the receiver goes away and comes back -----
        good.stop()
        t_down = time.monotonic()
        h.say(f'receiver stopped for {DOWN_SECONDS} s ({first_size} bytes received)')
        time.sleep(DOWN_SECONDS)
        good.start()
        t_up = time.monotonic()
        back = wait_until(lambda: good.size() > 100_000 or None, RESUME_LIMIT + 20, 'TS flowing again')
        t_back = time.monotonic()
        if f.check(bool(back), 'the output streams again to the receiver that came back'):
            f.check(t_back - t_up <= RESUME_LIMIT,
                    f'media again {t_back - t_up:.2f} s after the receiver came back (<= {RESUME_LIMIT} s)')
        o3 = output(gid)
        # srtsink's auto-reconnect is off (it can spam warnings forever on a wrong
        # passphrase): the gateway's retry carries the output over the restart.
        h.say(f'after the receiver restart: state {o3 and o3["state"]}, restarts {o3 and o3["restarts"]}')
        f.check(o3 and o3['restarts'] >= 1, f'the gateway retried: restarts {o3 and o3["restarts"]}')
        f.check(o3 and o3['state'] == 'running', f'running again: {o3 and o3["state"]}')
        f.check(o3 and o3['bytes'] > o2['bytes'], f'bytes move again ({o2["bytes"]} -> {o3 and o3["bytes"]})')
        time.sleep(3)
        h.say(f'outage: receiver down {t_up - t_down:.1f} s, media again {t_back - t_up:.2f} s after it listened')

        # ----- stop, then look at what the receivers got -----
        for oid in (gid, lid):
            if oid:
                status, final, _ = api.delete(f'/v1/rooms/{ROOM}/outputs/{oid}')
                answers.append(str(final))
                f.check(status == 200, f'DELETE {oid}: 200 ({status} {final})')
        time.sleep(1)
        good.stop()
        locked.stop()
        ts_summary(f, good.files[0], 'before the outage')
        ts_summary(f, good.files[-1], 'after the outage')

        h.kill_group(peer, signal.SIGTERM)
        h.wait_exit(peer, 15)
        h.wait_log(gw, r'finishing participant .* \(left', 15)
        h.kill_group(gw, signal.SIGTERM)
        f.check(h.wait_exit(gw, 20) == 0, 'gateway exits 0')
        log = h.log_text(gw)
        for secret in (GOOD_PASS, WRONG_PASS):
            f.check(not any(secret in a for a in answers), f'{secret!r} is in no API answer')
            leaked = [line for line in log.splitlines() if secret in line]
            f.check(not leaked, f'{secret!r} is in no log line ({leaked[:2]})')
        if lid:
            f.check(bool(__import__('re').search(rf'{lid}\b.*(SRT|srt)', log)),
                    f'the gateway log names {lid} and the SRT failure')

        # The participant's recording went on through all of this.
        manifest = h.manifest(ROOM)
        entries = [e for e in manifest['files'] if e.get('template') == 'record-mkv']
        if f.check(len(entries) == 1, f'one record-mkv file ({len(entries)})'):
            path = os.path.join(h.session_dir(ROOM), entries[0]['path'])
            _, vpk, apk = gwtest.check_recording(f, path, 'vp8')
            f.check(gwtest.largest_gap(vpk) < gwtest.allowance(0.5), f'record-mkv: no video gap ({gwtest.largest_gap(vpk):.2f} s)')
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
