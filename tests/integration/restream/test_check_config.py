#!/usr/bin/env python3
"""The broadcast templates' parameters are checked before anything runs: at start-up, and by --check-config alike.

No media: each case runs `roomcast` once with --check-config and once for
real (against a room server address where nothing listens, inside the
loopback-only namespace), and both must agree:
- every shipped template passes --check-config with valid parameters;
- a required URL missing, a URL with a scheme not declared or a path that
  climbs out (`..`), an int out of range, a string that is not a safe file
  name, and a --param that no active template declares are refused with
  exit 78 (configuration), naming the parameter.
A configuration that --check-config accepts but the service then refuses
would pass a deployment's pre-flight check and fail in production.
"""

import subprocess

from restream_test import gwtest

VALID = [
    ['--pipeline', 'rtmp', '--rtmp-url', 'rtmp://127.0.0.1:1935/live/key'],
    ['--pipeline', 'rtmp', '--rtmp-url', 'rtmps://127.0.0.1:1935/live/key', '--param', 'video_bitrate=800',
     '--param', 'width=640', '--param', 'height=360', '--param', 'framerate=25', '--param', 'keyframe_interval=50'],
    ['--pipeline', 'hls', '--param', 'target_duration=4', '--param', 'keyframe_interval=120',
     '--param', 'playlist_length=10', '--param', 'directory=live-hls'],
    ['--pipeline', 'composite-mp4', '--param', 'width=640', '--param', 'height=360'],
    ['--pipeline', 'rtmp-passthrough', '--rtmp-url', 'rtmp://127.0.0.1:1935/live'],
    ['--pipeline', 'record-mkv', '--pipeline', 'record-webm', '--pipeline', 'record-mp4'],
    ['--pipeline', 'record-mkv', '--pipeline', 'rtmp', '--pipeline', 'hls', '--pipeline', 'composite-mp4',
     '--pipeline', 'rtmp-passthrough', '--rtmp-url', 'rtmp://127.0.0.1:1935/live/key'],
]

# (arguments, a word the message must contain)
INVALID = [
    (['--pipeline', 'rtmp'], 'rtmp_url'),
    (['--pipeline', 'rtmp', '--rtmp-url', 'http://127.0.0.1/live/key'], 'rtmp_url'),
    (['--pipeline', 'rtmp', '--rtmp-url', 'rtmp://127.0.0.1/live/../key'], 'rtmp_url'),
    (['--pipeline', 'rtmp', '--rtmp-url', 'rtmp://127.0.0.1/live/key', '--param', 'video_bitrate=99999999'],
     'video_bitrate'),
    (['--pipeline', 'rtmp', '--rtmp-url', 'rtmp://127.0.0.1/live/key', '--param', 'keyframe_interval=0'],
     'keyframe_interval'),
    (['--pipeline', 'hls', '--param', 'target_duration=0'], 'target_duration'),
    (['--pipeline', 'hls', '--param', 'directory=../elsewhere'], 'directory'),
    (['--pipeline', 'composite-mp4', '--param', 'width=10'], 'width'),
    (['--pipeline', 'record-mkv', '--param', 'width=640'], 'width'),
    (['--pipeline', 'rtmp-passthrough'], 'rtmp_url'),
]


def main():
    gwtest.enter_netns()
    with gwtest.Harness('restream-check-config', gwtest.build_dir_from_args()) as h:
        f = h.failures
        roomcast = h.bin('gateway/roomcast')
        common = ['--room', 'checks', '--pipelines-dir', f'{h.source_dir}/pipelines',
                  '--recordings-dir', h.recordings, '--signaling-url', 'ws://127.0.0.1:9/ws', '--api-listen', 'none']

        def run(args, check, timeout):
            argv = [roomcast] + common + args + (['--check-config'] if check else [])
            try:
                out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
                return out.returncode, (out.stdout + out.stderr).strip()
            except subprocess.TimeoutExpired:
                return None, '(still running: it accepted the configuration)'

        for args in VALID:
            code, text = run(args, True, 30)
            f.check(code == 0, f'--check-config accepts {" ".join(args)}: exit {code} {text[-200:]}')
        for args, word in INVALID:
            # For real: it must refuse before joining (a valid one would run on, so a short timeout).
            code, text = run(args, False, 5)
            f.check(code == 78 and word in text, f'start-up refuses {" ".join(args)}: exit {code}: {text[-160:]}')
            code, text = run(args, True, 30)
            f.check(code == 78 and word in text, f'--check-config refuses {" ".join(args)}: exit {code}: '
                    f'{text[-160:]}')


if __name__ == '__main__':
    main()
