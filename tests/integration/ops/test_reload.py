#!/usr/bin/env python3
"""SIGHUP reload of the real roomcast: rooms added and removed while a recording runs in a third; bad configs.

The config lists rooms `keep` and `gone` (record-mkv). carol is in keep,
dave in gone, erin in new. After a few seconds the config is rewritten to
list keep and new, and the gateway gets SIGHUP. Checks:
- gone is left cleanly: dave's file finalized (decodes, manifest ended);
- new is joined with the configured pipeline: erin gets recorded;
- keep's recording is uninterrupted: one file for carol, no gap, duration
  about the time it was recorded;
- GET /v1/rooms and the manifests follow;
- a config with a bad value, or naming a missing template, is rejected with
  a log line and the rooms stay as they were;
- a rotated API token file is read on reload: the old token gets 401.
"""

import datetime
import os
import signal
import time

import opstest
from opstest import gwtest, wait_until


def session_files(h, room, ext='.mkv'):
    d = h.session_dir(room)
    return [os.path.join(d, x) for x in sorted(os.listdir(d)) if x.endswith(ext)]


def main():
    gwtest.enter_netns()
    with gwtest.Harness('ops-reload', gwtest.build_dir_from_args()) as h:
        f = h.failures
        cfg = opstest.write(os.path.join(h.dir, 'roomcast.conf'),
                            'room = keep\nroom = gone\npipeline = record-mkv\n')
        server, port = h.start_signal()
        carol = h.start_testpeer(port, 'keep', 'carol', 'vp8', pattern='ball')
        dave = h.start_testpeer(port, 'gone', 'dave', 'vp8')
        erin = h.start_testpeer(port, 'new', 'erin', 'h264')
        for p in (carol, dave, erin):
            h.wait_log(p, r'joined room', 10)
        gw, api_port = opstest.start_gateway(h, port, config=cfg)
        api = opstest.Api(api_port)

        def recording(room):
            r = api.rooms().get(room)
            return r and any(o['state'] == 'running' and o.get('files') for o in r['outputs'])
        wait_until(lambda: recording('keep') and recording('gone'), 20, 'keep and gone recorded')
        keep_out = [o for o in api.rooms()['keep']['outputs'] if o.get('started_at')][0]
        keep_started = datetime.datetime.fromisoformat(keep_out['started_at'].replace('Z', '+00:00')).timestamp()
        f.check(set(api.rooms()) == {'keep', 'gone'}, f'rooms at start: {sorted(api.rooms())}')
        time.sleep(3.0)

        opstest.write(cfg, 'room = keep\nroom = new\npipeline = record-mkv\n')
        offset = len(h.log_text(gw))
        h.kill_group(gw, signal.SIGHUP)
        h.wait_log(gw, r'reloaded .*1 room\(s\) joined, 1 left', 10, after=offset)
        wait_until(lambda: set(api.rooms()) == {'keep', 'new'} and recording('new'), 20,
                   'rooms keep and new, erin recorded')
        f.check(True, 'after SIGHUP: gone left, new joined and recording')

        gone = h.manifest('gone')
        f.check(gone.get('session_end') is not None, 'gone: manifest ended')
        dave_files = session_files(h, 'gone')
        f.check(len(dave_files) == 1, f'gone: one file ({dave_files})')
        for p in dave_files:
            ok, err = gwtest.decodes(p)
            f.check(ok, f'gone: {os.path.basename(p)} finalized and decodes {err}')
            gwtest.check_recording(f, p, 'vp8')

        # Bad configs are rejected; the rooms stay.
        for label, text in [('a bad room name', 'room = keep\nroom = not a room!\n'),
                            ('a missing template', 'room = keep\npipeline = no-such-template\n'),
                            ('an unknown key', 'room = keep\ncolour = blue\n')]:
            opstest.write(cfg, text)
            offset = len(h.log_text(gw))
            h.kill_group(gw, signal.SIGHUP)
            m = h.wait_log(gw, r'reload rejected[^\n]*', 10, after=offset)
            f.check(True, f'{label}: {m.group(0)[:160]}')
            time.sleep(0.3)
            f.check(set(api.rooms()) == {'keep', 'new'}, f'{label}: rooms unchanged ({sorted(api.rooms())})')
        f.check(gw.poll() is None, 'the gateway still runs after the bad configs')

        # The API token is re-read on reload (rotation), even with a rejected config.
        opstest.write(os.path.join(h.dir, 'api-token'), 'rotated-token-42\n')
        offset = len(h.log_text(gw))
        h.kill_group(gw, signal.SIGHUP)
        h.wait_log(gw, r'API token re-read', 10, after=offset)
        status, _, _ = api.get('/v1/rooms')
        f.check(status == 401, f'after rotation the old token is refused ({status})')
        api.token = 'rotated-token-42'
        status, _, _ = api.get('/v1/rooms')
        f.check(status == 200, f'after rotation the new token works ({status})')
        opstest.write(cfg, 'room = keep\nroom = new\npipeline = record-mkv\n')

        time.sleep(2.0)
        wall_stop = time.time()
        h.kill_group(gw, signal.SIGTERM)
        f.check(h.wait_exit(gw, 20) == 0, 'gateway exits 0 on SIGTERM')

        keep_files = session_files(h, 'keep')
        f.check(len(keep_files) == 1, f'keep: one file for carol across the reloads ({keep_files})')
        if keep_files:
            info, vpk, apk = gwtest.check_recording(f, keep_files[0], 'vp8')
            media = gwtest.media_end(vpk)
            recorded = wall_stop - keep_started  # first buffer to SIGTERM
            f.check(recorded - 1.0 < media < recorded + 0.5,
                    f'keep: {media:.2f} s of video for {recorded:.2f} s from started_at to SIGTERM')
            gap = gwtest.largest_gap(vpk)
            f.check(gap < 0.5, f'keep: no gap in the video (largest {gap:.3f} s)')
            ok, err = gwtest.decodes(keep_files[0])
            f.check(ok, f'keep: decodes {err}')
        keep = h.manifest('keep')
        f.check([p.get('name') for p in keep['participants']] == ['carol'], 'keep: manifest has carol only')
        new_files = session_files(h, 'new')
        f.check(len(new_files) == 1, f'new: one file for erin ({new_files})')
        for p in new_files:
            gwtest.check_recording(f, p, 'h264')
        for p in (carol, dave, erin):
            h.kill_group(p, signal.SIGTERM)


if __name__ == '__main__':
    main()
