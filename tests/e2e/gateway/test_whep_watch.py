#!/usr/bin/env python3
"""The web client's watch view end to end (issue #14 item 1): headless Chromium opens the real web
client (built from web/ into the test's folder, served by roomcast-signal --static) at
?room=NAME&watch=1, and plays the room through the gateway's WHEP endpoint on another origin
(--cors-origin the page's), while the gateway records the room with a room-scope composite
template (composite-mp4) beside record-mkv.

Checks:
  - with a viewer token (JWT) the view says "playing", the <video>'s currentTime and decoded
    frames grow, its picture is the 1280x720 composite and not black (mean luma and contrast of
    the two test peers' pictures); leaving the page DELETEs the session;
  - a room the gateway does not record: the view shows the "not being recorded" waiting state
    (the endpoint's 404) and retries;
  - a bad token: the view shows the token prompt (401); typing a good token into it plays.
"""

import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'integration', 'gateway'))
import gwtest  # noqa: E402
import whep_support  # noqa: E402

ROOM = 'watchme'
TOKEN = 'watch-api-token-for-tests'
SECRET = 'watch-viewer-secret-for-tests'
HERE = os.path.dirname(os.path.abspath(__file__))



def build_web(h):
    """The web client of this tree, built into the test's folder (web/dist may be stale)."""
    web = os.path.join(h.source_dir, 'web')
    vite = os.path.join(web, 'node_modules', '.bin', 'vite')
    if not os.access(vite, os.X_OK):
        print('skip: web/node_modules has no vite (scripts/setup.sh runs npm ci in web/)', file=sys.stderr)
        sys.exit(gwtest.SKIP)
    out = os.path.join(h.dir, 'web-dist')
    r = subprocess.run([vite, 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], cwd=web,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not os.path.isfile(os.path.join(out, 'index.html')):
        raise RuntimeError(f'vite build failed: {r.stderr[-800:]}')
    return out


def main():
    gwtest.enter_netns()
    with gwtest.Harness('gateway-whep-watch', gwtest.build_dir_from_args()) as h:
        f = h.failures
        h.require_browser()
        dist = build_web(h)
        h.say('web client built')
        for name, text in (('api-token', TOKEN), ('whep-secret', SECRET)):
            with open(os.path.join(h.dir, name), 'w') as fh:
                fh.write(text + '\n')
        server, port = h.start_signal(static_dir=dist)
        page_origin = f'http://127.0.0.1:{port}'
        gateway = h.start_gateway(port, ROOM, pipelines=('record-mkv', 'composite-mp4'), extra=(
            '--api-listen', '127.0.0.1:0', '--api-token-file', os.path.join(h.dir, 'api-token'),
            '--whep-token-secret-file', os.path.join(h.dir, 'whep-secret'), '--cors-origin', page_origin))
        api = int(h.wait_log(gateway, r'control API listening on 127\.0\.0\.1:(\d+)', 10).group(1))
        peers = [h.start_testpeer(port, ROOM, 'smpte', 'vp8'),
                 h.start_testpeer(port, ROOM, 'ball', 'vp8', pattern='ball')]
        first = h.wait_log(gateway, r'\.mkv started', 60)
        h.wait_log(gateway, r'\.mkv started', 60, after=first.end())
        h.wait_log(gateway, r'composite-mp4\S*\.mp4 started', 60)

        whep = f'http://127.0.0.1:{api}'
        viewer = whep_support.jwt({'room': ROOM, 'exp': int(time.time()) + 600}, SECRET)

        def url(room, token):
            q = urllib.parse.urlencode({'room': room, 'watch': '1', 'whep': whep, 'token': token})
            return f'{page_origin}/?{q}'

        steps = [
            {'url': url(ROOM, viewer), 'want': 'playing'},
            {'url': url('notrecorded', TOKEN), 'want': 'waiting'},
            {'url': url(ROOM, 'not-a-valid-token'), 'want': 'needsToken', 'retoken': viewer},
        ]
        mark = len(h.log_text(gateway))
        page = h.start('chromium', ['node', os.path.join(HERE, 'watch_page.mjs'), json.dumps(steps)])
        f.check(h.wait_exit(page, 260) == 0, 'the watch page ran')
        results = None
        for line in reversed(h.log_text(page).splitlines()):
            if line.startswith('['):
                results = json.loads(line)
                break
        if not f.check(results is not None and len(results) == 3, 'the page reported every step'):
            return
        play, missing, bad = results

        def check_playing(samples, what):
            if not f.check(bool(samples), f'{what}: the video was sampled'):
                return
            a, b = samples[0], samples[-1]
            h.say(f'{what}: first {json.dumps(a)}')
            h.say(f'{what}: last {json.dumps(b)}')
            f.check(b['currentTime'] > a['currentTime'] + 3,
                    f'{what}: currentTime advances ({a["currentTime"]:.2f} -> {b["currentTime"]:.2f} s)')
            f.check(b['frames'] > a['frames'] + 30, f'{what}: decoded frames grow ({a["frames"]} -> {b["frames"]})')
            f.check(not b['paused'], f'{what}: the video is not paused')
            f.check((b['width'], b['height']) == (1280, 720), f'{what}: the composite at 1280x720 ({b["width"]}x{b["height"]})')
            # A black picture has luma 0-16 and no contrast; the composite's two tiles (SMPTE
            # bars, a ball) on its black background measured luma ~32, contrast ~66.
            f.check(all(s.get('luma', 0) > 12 and s.get('lumaStddev', 0) > 20 for s in samples),
                    f'{what}: the picture is not black (luma {[round(s.get("luma", 0)) for s in samples]}, '
                    f'contrast {[round(s.get("lumaStddev", 0)) for s in samples]})')
            f.check(b['text'] == 'Live', f'{what}: the status says Live ({b["text"]!r})')

        f.check(play['reached'], f'viewer token: the view plays (state {play["seen"]})')
        check_playing(play.get('samples'), 'viewer token')
        f.check(missing['reached'] and 'not being recorded' in (missing['seen']['text'] or ''),
                f'unknown room: the view waits for the room ({missing["seen"]})')
        f.check(bad['reached'] and bad['seen']['tokenPrompt'] and 'token was refused' in (bad['seen']['text'] or ''),
                f'bad token: the view asks for a token ({bad["seen"]})')
        after = bad.get('afterToken') or {}
        f.check(bool(after.get('reached')), f'the token typed into the prompt plays ({after.get("seen")})')
        check_playing(bad.get('samples'), 'token from the prompt')

        log = h.log_text(gateway)[mark:]
        f.check(log.count('answered (') == 2, f'two WHEP sessions were answered ({log.count("answered (")})')
        h.wait_log(gateway, r'whep: encoder stopped: the last viewer left', 30, after=mark)
        f.check('the viewer left (DELETE)' in h.log_text(gateway)[mark:], 'leaving the page DELETEd the session')
        f.check(gateway.poll() is None, 'the gateway is still running')
        whep_support.finish(h, f, server, gateway, peers)


if __name__ == '__main__':
    main()
