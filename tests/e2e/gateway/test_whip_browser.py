#!/usr/bin/env python3
"""Chromium publishing into a room over WHIP (a page written from RFC 9725 alone, same origin as
the API): 201 with a Location, the API lists the source with source "whip" and VP8/OPUS, the
DELETE ends it, and its file (ffprobe) and manifest entry are there.
"""

import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'integration', 'gateway'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'integration', 'ops'))
import gwtest  # noqa: E402
import opstest  # noqa: E402

ROOM = 'whipweb'
SECONDS = 8


def main():
    gwtest.enter_netns()
    with gwtest.Harness('gateway-whip-browser', gwtest.build_dir_from_args()) as h:
        h.require_browser(('ffprobe',))
        f = h.failures
        server, port = h.start_signal()
        gateway, api_port = opstest.start_gateway(h, port, rooms=(ROOM,), pipelines=('record-mkv',))
        h.wait_log(gateway, r'joined as hidden member', 15)
        api = opstest.Api(api_port)
        # Its stdout is the result line; stderr (page console) goes to the harness folder.
        log = os.path.join(h.dir, 'chromium-whip.log')
        browser = subprocess.Popen(
            ['node', os.path.join(HERE, 'whip_browser.mjs'), f'http://127.0.0.1:{api_port}', ROOM,
             opstest.TOKEN, str(SECONDS), 'browser'],
            stdout=subprocess.PIPE, stderr=open(log, 'wb'), start_new_session=True, cwd=h.dir)
        browser.label, browser.logpath = 'chromium-whip', log
        h.procs.append(browser)  # killed with the harness if the test fails early
        seen = {}

        def listed_connected():
            for p in api.rooms().get(ROOM, {}).get('participants', []):
                if p.get('name') == 'browser':
                    seen.update(p)
            return seen.get('connection', {}).get('state') == 'connected'
        try:
            opstest.wait_until(listed_connected, 40, 'the browser listed as a connected source')
        except RuntimeError as e:
            f.check(False, f'{e}: {seen}')
        f.check(seen.get('source') == 'whip', f'API: source {seen.get("source")}')
        f.check(seen.get('codecs') == ['VP8', 'OPUS'], f'API: codecs {seen.get("codecs")}')
        out, _ = browser.communicate(timeout=SECONDS + 90)
        lines = [line for line in out.decode().splitlines() if line.startswith('{')]
        result = json.loads(lines[-1]) if lines else {}
        h.say(f'browser: {result}')
        f.check(result.get('status') == 201, f'POST answered 201 ({result.get("status")} {result.get("error", "")})')
        f.check(result.get('location', '').startswith(f'/whip/{ROOM}/whip-'), f'Location {result.get("location")}')
        f.check(result.get('connected') is True, 'the browser connected')
        f.check(result.get('deleted') == 200, f'DELETE answered {result.get("deleted")}')
        h.wait_log(gateway, r'finishing participant whip-\S+ \(the publisher ended', 15)
        time.sleep(1.0)
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'gateway exits 0 on SIGTERM')
        manifest = h.manifest(ROOM)
        who = next((p for p in manifest['participants'] if p.get('name') == 'browser'), None)
        if f.check(who is not None and who.get('source') == 'whip', f'manifest: {who}'):
            entries = [x for x in manifest['files'] if x['participant'] == who['id']]
            if f.check(len(entries) == 1 and entries[0].get('finished') is True, f'one finished file: {entries}'):
                path = os.path.join(h.session_dir(ROOM), entries[0]['path'])
                info, vpk, apk = gwtest.check_recording(f, path, 'vp8')
                duration = float(info['format'].get('duration', 0))
                f.check(SECONDS - 3 <= duration <= SECONDS + 2, f'file lasts {duration:.2f} s for {SECONDS} s published')
        server.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
