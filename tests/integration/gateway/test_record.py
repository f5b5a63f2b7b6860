#!/usr/bin/env python3
"""Gateway records two synthetic participants (VP8, H264): one leaves after 3 s, one stays 6 s, then SIGTERM.

Checks two finalized files + manifest: both streams, the codec sent (no
transcode), a keyframe first, duration within 0.5 s of the time present,
and joins/leaves that match the participants.
"""

import os
import signal
import time

import gwtest

ROOM = 'rec'


def main():
    gwtest.enter_netns()
    with gwtest.Harness('gateway-record', gwtest.build_dir_from_args()) as h:
        f = h.failures
        server, port = h.start_signal()
        gateway = h.start_gateway(port, ROOM)
        alice, bob = gwtest.sending_time(3), gwtest.sending_time(6)
        a = h.start_testpeer(port, ROOM, 'alice', 'vp8', duration=alice, pattern='ball')
        b = h.start_testpeer(port, ROOM, 'bob', 'h264', duration=bob, pattern='smpte', width=1280, height=720)
        f.check(h.wait_exit(a, gwtest.allowance(30)) == 0, f'alice ({alice:g} s, VP8) exited 0')
        f.check(h.wait_exit(b, gwtest.allowance(30)) == 0, f'bob ({bob:g} s, H264) exited 0')
        h.wait_log(gateway, r'finishing participant .* \(left the room\)(.|\n)*finishing participant .* \(left', 10)
        time.sleep(0.5)
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 15) == 0, 'gateway exits 0 on SIGTERM')
        log = h.log_text(gateway)
        f.check('every recording is finalized' in log, 'gateway finalized every recording')

        session = h.session_dir(ROOM)
        files = sorted(os.listdir(session))
        mkvs = [x for x in files if x.endswith('.mkv')]
        f.check('manifest.json' in files, 'manifest.json written')
        f.check(len(mkvs) == 2, f'two recordings: {mkvs}')

        manifest = h.manifest(ROOM)
        people = {p['name']: p for p in manifest['participants']}
        f.check(set(people) == {'alice', 'bob'}, f'manifest participants alice and bob: {sorted(people)}')
        for who in people.values():
            f.check(who.get('left') is not None and who['left'] > who['joined'],
                    f'manifest: {who["name"]} joined at {who["joined"]:.2f} s and left at {who.get("left")}')
        f.check(manifest.get('session_end') is not None, 'manifest: session ended')

        expected = {'alice': ('vp8', 'VP8', alice), 'bob': ('h264', 'H264', bob)}
        for name, (codec, rtpName, seconds) in expected.items():
            who = people.get(name)
            if not who:
                continue
            entries = [x for x in manifest['files'] if x['participant'] == who['id']]
            if not f.check(len(entries) == 1, f'{name}: one file in the manifest'):
                continue
            entry = entries[0]
            f.check(entry['video_codec'] == rtpName and entry['audio_codec'] == 'OPUS',
                    f'{name}: manifest codecs {entry["video_codec"]}/{entry["audio_codec"]}')
            f.check(entry.get('finished') is True and entry.get('bytes', 0) > 0, f'{name}: manifest says finished')
            path = os.path.join(session, entry['path'])
            info, vpk, apk = gwtest.check_recording(f, path, codec)
            duration = float(info['format'].get('duration', 0))
            present = who['left'] - entry['start']
            f.check(abs(duration - present) <= gwtest.allowance(0.5),
                    f'{name}: file lasts {duration:.2f} s, present {present:.2f} s (from first media to leave)')
            # The peer's clock starts before joining and negotiating.
            f.check(seconds - gwtest.allowance(2.0) <= duration <= seconds + gwtest.allowance(0.5),
                    f'{name}: file lasts {duration:.2f} s for a {seconds:g} s participant')
            f.check(abs(entry['duration'] - duration) <= 0.3,
                    f'{name}: manifest duration {entry["duration"]:.2f} s matches the file')
            f.check(gwtest.largest_gap(vpk) < gwtest.allowance(0.5), f'{name}: no video gap ({gwtest.largest_gap(vpk):.2f} s)')
            f.check(gwtest.largest_gap(apk) < gwtest.allowance(0.5), f'{name}: no audio gap ({gwtest.largest_gap(apk):.2f} s)')
        # One offer per participant: nobody was offered to twice.
        offers = log.count('offering to ')
        f.check(offers == 2, f'gateway offered exactly twice ({offers})')
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
