#!/usr/bin/env python3
"""WHIP ingest (RFC 9725) end to end: our own webrtcbin publishers (VP8 + Opus, H264 + Opus)
POST their offers to /whip/{room} of a gateway recording that room with record-mkv.

Checks: 201 with an answer and a Location; the API lists each source (source "whip", its
name, codecs) while it publishes; DELETE ends it and closes its file cleanly (ffprobe: codec,
keyframe first, duration close to the time published, no gap); the manifest lists the sources
with source "whip" and their files. A third publisher vanishes without DELETE: the gateway
ends it by itself (ICE failure or the 30 s WHIP grace) and closes its file, logged like a
participant leaving.
"""

import os
import signal
import subprocess
import sys
import time

import gwtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'ops'))
import opstest  # noqa: E402

ROOM = 'whipin'


def publisher(h, api_port, codec, seconds, name, extra=()):
    url = f'http://127.0.0.1:{api_port}/whip/{ROOM}?name={name}'
    argv = [h.bin('tests/integration/gateway/whip-publisher'), '--url', url, '--codec', codec,
            '--seconds', str(seconds), '--token', opstest.TOKEN, *extra]
    return h.start(f'whip-{name}', argv)


def main():
    gwtest.enter_netns()
    with gwtest.Harness('gateway-whip', gwtest.build_dir_from_args()) as h:
        f = h.failures
        server, port = h.start_signal()
        gateway, api_port = opstest.start_gateway(h, port, rooms=(ROOM,), pipelines=('record-mkv',))
        h.wait_log(gateway, r'joined as hidden member', 15)
        api = opstest.Api(api_port)

        seconds = 8
        t_start = time.monotonic()
        a = publisher(h, api_port, 'vp8', seconds, 'cam-vp8')
        b = publisher(h, api_port, 'h264', seconds, 'cam-h264')
        for p in (a, b):
            h.wait_log(p, r'status 201', 30)
        # While they publish: both listed as WHIP sources with their names and codecs.
        listed = {}

        def both_connected():
            people = api.rooms().get(ROOM, {}).get('participants', [])
            listed.update({p.get('name'): p for p in people})
            return all(listed.get(n, {}).get('connection', {}).get('state') == 'connected'
                       for n in ('cam-vp8', 'cam-h264'))
        try:
            opstest.wait_until(both_connected, 20, 'both WHIP sources connected')
        except RuntimeError as e:
            f.check(False, f'{e}: {listed}')
        for name, codec in (('cam-vp8', 'VP8'), ('cam-h264', 'H264')):
            who = listed.get(name, {})
            f.check(who.get('source') == 'whip', f'API lists {name} with source whip ({who.get("source")})')
            f.check(who.get('codecs') == [codec, 'OPUS'], f'API: {name} sends {who.get("codecs")}')
            f.check(who.get('id', '').startswith('whip-'), f'API: {name} has id {who.get("id")}')
        for p in (a, b):
            f.check(h.wait_exit(p, 40) == 0, f'{p.label} published, then DELETE answered 200 (exit 0)')
            out = h.log_text(p)
            f.check('deleted 200' in out, f'{p.label}: DELETE -> 200')
            loc = [line for line in out.splitlines() if line.startswith('location ')]
            f.check(bool(loc) and loc[0].startswith(f'location /whip/{ROOM}/whip-'),
                    f'{p.label}: Location {loc[0] if loc else None}')
        h.wait_log(gateway, r'finishing participant whip-\S+ \(the publisher ended(.|\n)*'
                   r'finishing participant whip-\S+ \(the publisher ended', 15)
        # Gone from the API once finished.
        opstest.wait_until(lambda: not [p for p in api.rooms().get(ROOM, {}).get('participants', [])
                                         if p.get('source') == 'whip'], 15, 'WHIP sources gone from the API')

        # A publisher that vanishes: no DELETE, no goodbye.
        c = publisher(h, api_port, 'vp8', 4, 'vanisher', extra=('--no-delete',))
        f.check(h.wait_exit(c, 40) == 0 and 'vanishing' in h.log_text(c), 'vanisher published and vanished')
        t_gone = time.monotonic()
        try:
            h.wait_log(gateway, r'whip: whip-\S+ \(vanisher\) leaves: ', 60)
            f.check(True, f'gateway ended the vanished publisher after {time.monotonic() - t_gone:.1f} s')
        except RuntimeError as e:
            f.check(False, f'gateway ends a vanished publisher: {e}')
        h.wait_log(gateway, r'finishing participant whip-\S+ \((ICE failed|no media and no connection)', 10)

        time.sleep(1.0)
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'gateway exits 0 on SIGTERM')

        manifest = h.manifest(ROOM)
        people = {p['name']: p for p in manifest['participants']}
        session = h.session_dir(ROOM)
        expected = {'cam-vp8': ('vp8', 'VP8', seconds), 'cam-h264': ('h264', 'H264', seconds),
                    'vanisher': ('vp8', 'VP8', 4)}
        for name, (codec, rtp, secs) in expected.items():
            who = people.get(name)
            if not f.check(who is not None, f'manifest lists {name}'):
                continue
            f.check(who.get('source') == 'whip', f'manifest: {name} source {who.get("source")}')
            f.check(who.get('left') is not None, f'manifest: {name} left at {who.get("left")}')
            entries = [x for x in manifest['files'] if x['participant'] == who['id']]
            if not f.check(len(entries) == 1, f'{name}: one file in the manifest ({len(entries)})'):
                continue
            entry = entries[0]
            f.check(entry['video_codec'] == rtp and entry['audio_codec'] == 'OPUS',
                    f'{name}: manifest codecs {entry["video_codec"]}/{entry["audio_codec"]}')
            f.check(entry.get('finished') is True, f'{name}: file finished cleanly')
            info, vpk, apk = gwtest.check_recording(f, os.path.join(session, entry['path']), codec)
            duration = float(info['format'].get('duration', 0))
            # The publisher's clock runs from before its POST; the file from the first keyframe.
            # A vanished publisher's file may run on through the media timeout (5 s) before its
            # network gap is declared.
            slack = 6.0 if name == 'vanisher' else 1.0
            f.check(secs - 3.0 <= duration <= secs + slack,
                    f'{name}: file lasts {duration:.2f} s for {secs} s published')
            if name != 'vanisher':
                # x264 on two loaded cores can stall a frame or two at the start.
                f.check(gwtest.largest_gap(vpk) < gwtest.allowance(1.0), f'{name}: no video gap ({gwtest.largest_gap(vpk):.2f} s)')
                f.check(gwtest.largest_gap(apk) < gwtest.allowance(0.5), f'{name}: no audio gap ({gwtest.largest_gap(apk):.2f} s)')
        members = [p for p in manifest['participants'] if p.get('source') != 'whip']
        f.check(not members, f'no room members in the manifest ({members})')
        h.say(f'total {time.monotonic() - t_start:.1f} s')
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
