"""What every restream test shares: the gateway harness (tests/integration/gateway/gwtest.py, imported by path) and a few media checks.

gwtest stays the one harness (netns, processes, ffprobe); this module adds
only what the room-scope outputs need on top of it: reading the session's
manifest entries of a template, the time span of a stream's packets, and
keyframe spacing.
"""

import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'gateway'))
sys.path.insert(0, HERE)

import gwtest  # noqa: E402  (after the path set-up above)
import rtmp_fixture  # noqa: E402  (re-exported for the tests)


def template_entries(h, room, template):
    """The manifest's file entries written by template (room scope: participant empty or null)."""
    try:
        manifest = h.manifest(room)
    except (RuntimeError, OSError, ValueError) as e:
        h.say(f'no manifest: {e}')
        return []
    return [e for e in manifest.get('files', []) if e.get('template') == template]


def span(packets):
    """Seconds from the first packet's start to the last packet's end."""
    if not packets:
        return 0.0
    return gwtest.media_end(packets) - min(p['pts'] for p in packets)


def keyframe_times(packets):
    return sorted(p['pts'] for p in packets if p['key'])


def largest_keyframe_interval(packets):
    keys = keyframe_times(packets)
    return max((b - a for a, b in zip(keys, keys[1:])), default=float('inf'))


def stream_summary(info):
    """('h264', 640, 360, 'aac') style summary of ffprobe -show_streams output: (video codec, w, h, audio codec)."""
    video = [s for s in info['streams'] if s['codec_type'] == 'video']
    audio = [s for s in info['streams'] if s['codec_type'] == 'audio']
    v = video[0] if video else {}
    return (v.get('codec_name'), v.get('width'), v.get('height'), audio[0]['codec_name'] if audio else None)


def wait_count(h, p, pattern, count, timeout):
    """Waits until p's log matches pattern at least count times; returns the time it happened."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(rx.findall(h.log_text(p))) >= count:
            return time.monotonic()
        if p.poll() is not None:
            break
        time.sleep(0.05)
    found = len(rx.findall(h.log_text(p)))
    raise RuntimeError(f'{p.label} logged /{pattern}/ {found} time(s), not {count}, within {timeout} s')


def stop_peer(h, p, timeout=15):
    """SIGTERM to a test peer (it leaves the room) and its exit code."""
    h.kill_group(p, signal.SIGTERM)
    return h.wait_exit(p, timeout)


__all__ = ['gwtest', 'rtmp_fixture', 'template_entries', 'span', 'keyframe_times', 'largest_keyframe_interval',
           'stream_summary', 'wait_count', 'stop_peer']
