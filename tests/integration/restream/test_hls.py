#!/usr/bin/env python3
"""HLS of the room composite at the default size (1280x720): segments of the target duration, a playable playlist, ENDLIST on stop.

Two test peers join; the gateway runs `hls` with its defaults
(target_duration 2, playlist_length 5, 1280x720@30). The peers leave after
about 8 s and the gateway keeps publishing the empty room (black and
silence) for 5 s more before SIGTERM. Checks, on the finished session:
- `<session>/hls/playlist.m3u8` exists and lists segments that exist;
- every listed segment's EXTINF, and its duration as ffprobe reads the
  segment, is within 0.5 s of the target duration, except the last one: the
  stop cuts it wherever it happens to be, so it is only required to be
  longer than 0 and not longer than target + 0.5 s;
- ffprobe reads the playlist as H.264 1280x720 + AAC;
- `#EXT-X-ENDLIST` ends the playlist (a clean stop);
- the playlist's media sequence counts as many segments as the time the
  mix ran (it did not stop when the room emptied).
"""

import os
import re
import signal
import time

from restream_test import gwtest, stream_summary, stop_peer

ROOM = 'live'
TARGET = 2.0          # the template's default target_duration
PLAYLIST_LENGTH = 5   # the template's default playlist_length
TOLERANCE = 0.5       # the issue: each segment within +-0.5 s of the target


def parse_playlist(text):
    """(media sequence, [(extinf seconds, uri)], has ENDLIST, target duration)."""
    seq = int(m.group(1)) if (m := re.search(r'#EXT-X-MEDIA-SEQUENCE:(\d+)', text)) else 0
    target = int(m.group(1)) if (m := re.search(r'#EXT-X-TARGETDURATION:(\d+)', text)) else None
    segments = []
    pending = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith('#EXTINF:'):
            pending = float(line[len('#EXTINF:'):].split(',')[0])
        elif line and not line.startswith('#') and pending is not None:
            segments.append((pending, line))
            pending = None
    return seq, segments, '#EXT-X-ENDLIST' in text, target


def main():
    gwtest.enter_netns()
    with gwtest.Harness('restream-hls', gwtest.build_dir_from_args()) as h:
        f = h.failures
        server, port = h.start_signal()
        gateway = h.start_gateway(port, ROOM, pipelines=('hls',))
        a = h.start_testpeer(port, ROOM, 'alice', 'vp8', pattern='ball')
        b = h.start_testpeer(port, ROOM, 'bob', 'h264', pattern='smpte')
        t_first = None
        session = None
        deadline = time.monotonic() + 20
        # The mix starts with the first participant: wait for the first segment to be written.
        while time.monotonic() < deadline and t_first is None:
            try:
                session = h.session_dir(ROOM)
                hls = os.path.join(session, 'hls')
                if os.path.isdir(hls) and any(n.endswith('.ts') for n in os.listdir(hls)):
                    t_first = time.monotonic()
            except RuntimeError:
                pass
            time.sleep(0.1)
        if t_first is None:
            raise RuntimeError('no HLS segment within 20 s')
        h.say('first segment written')
        time.sleep(8)
        f.check(stop_peer(h, a) == 0, 'alice left and exited 0')
        f.check(stop_peer(h, b) == 0, 'bob left and exited 0')
        time.sleep(5)   # the empty room is still published
        # The playlist so far: a live playlist, no ENDLIST yet.
        playlist = os.path.join(session, 'hls', 'playlist.m3u8')
        if f.check(os.path.exists(playlist), 'hls/playlist.m3u8 exists while running'):
            with open(playlist) as pl:
                f.check('#EXT-X-ENDLIST' not in pl.read(), 'no #EXT-X-ENDLIST while the gateway runs')
        t_stop = time.monotonic()
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'gateway exits 0 on SIGTERM')

        if not f.check(os.path.exists(playlist), f'{playlist} exists'):
            return
        with open(playlist) as pl:
            text = pl.read()
        h.say('playlist:\n' + text)
        seq, segments, endlist, target = parse_playlist(text)
        f.check(endlist, '#EXT-X-ENDLIST after a clean stop')
        f.check(target is not None and abs(target - TARGET) <= 1,
                f'#EXT-X-TARGETDURATION {target} for a {TARGET} s target')
        f.check(0 < len(segments) <= PLAYLIST_LENGTH,
                f'{len(segments)} segment(s) listed (playlist_length {PLAYLIST_LENGTH})')
        hls = os.path.dirname(playlist)
        for i, (extinf, uri) in enumerate(segments):
            last = i == len(segments) - 1
            path = os.path.join(hls, uri)
            if not f.check(os.path.exists(path), f'{uri} exists'):
                continue
            probed = float(gwtest.probe_streams(path)['format'].get('duration', 0))
            if last:
                f.check(0 < extinf <= TARGET + TOLERANCE and 0 < probed <= TARGET + TOLERANCE,
                        f'{uri} (last, cut by the stop): EXTINF {extinf:.3f} s, ffprobe {probed:.3f} s, '
                        f'<= {TARGET + TOLERANCE} s')
            else:
                f.check(abs(extinf - TARGET) <= TOLERANCE and abs(probed - TARGET) <= TOLERANCE,
                        f'{uri}: EXTINF {extinf:.3f} s, ffprobe {probed:.3f} s, {TARGET} +- {TOLERANCE} s')
            if i == 0:
                vpk = gwtest.probe_packets(path, 'v')
                f.check(bool(vpk) and vpk[0]['key'], f'{uri}: starts with a keyframe')
        # Segments are written for as long as the mix ran, people or not: (first segment .. stop).
        produced = seq + len(segments)
        ran = t_stop - t_first
        f.check(abs(produced * TARGET - ran) <= 2 * TARGET + 1,
                f'{produced} segments of {TARGET} s for a mix of about {ran:.1f} s')
        try:
            info = gwtest.probe_streams(playlist)
            summary = stream_summary(info)
            f.check(summary == ('h264', 1280, 720, 'aac'), f'ffprobe reads the playlist as H.264 1280x720 + AAC: '
                    f'{summary}')
        except RuntimeError as e:
            f.check(False, f'ffprobe reads the playlist ({e})')
        # Segments that already left the playlist are still on disk (hlssink2 keeps max-files):
        # the same rule for each of them, the last one written excepted.
        names = sorted(n for n in os.listdir(hls) if n.endswith('.ts'))
        f.check(len(names) >= len(segments), f'{len(names)} segment files on disk')
        listed = {uri for _, uri in segments}
        for name in names[:-1]:
            if name in listed:
                continue
            probed = float(gwtest.probe_streams(os.path.join(hls, name))['format'].get('duration', 0))
            f.check(abs(probed - TARGET) <= TOLERANCE, f'{name} (no longer listed): ffprobe {probed:.3f} s, '
                    f'{TARGET} +- {TOLERANCE} s')
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
