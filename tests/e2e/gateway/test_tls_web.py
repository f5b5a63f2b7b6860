#!/usr/bin/env python3
"""TLS where people need it, end to end: the room server serves the web client over HTTPS and
WSS on an address that is not loopback (one added inside the test's own namespace, as a browser
on another machine would reach it); Chromium loads it as a secure context, gets its
camera and joins over WSS; the gateway joins over WSS, verifying the server against the test's
own CA (--signaling-ca-file), and records Chromium.

The CA and certificate are throwaway ones made by openssl. Chromium trusts the server's key by
its SPKI hash (--ignore-certificate-errors-spki-list): certificate checks stay on for any other.
"""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'integration', 'gateway'))
import gwtest  # noqa: E402
import throwaway_pki  # noqa: E402

ROOM = 'tls'
ADDRESS = '10.77.0.1'  # an address of the test's own namespace, not a loopback one
HERE = os.path.dirname(os.path.abspath(__file__))
STAY_SECONDS = 8


def main():
    gwtest.enter_netns()
    # The kernel here has no dummy or veth links: the address goes on the namespace's own lo.
    # It is still no loopback address to a browser (only 127/8, ::1 and localhost are).
    subprocess.run(['ip', 'addr', 'add', f'{ADDRESS}/32', 'dev', 'lo'], check=True)
    with gwtest.Harness('gateway-tls-web', gwtest.build_dir_from_args()) as h:
        f = h.failures
        missing = [t for t in ('node', 'openssl', 'ffprobe') if not shutil.which(t)]
        web = os.path.join(h.source_dir, 'web', 'dist')
        if missing or not os.path.isfile(os.path.join(web, 'index.html')):
            print(f'skip: missing {missing or "web/dist (npm run build in web/)"}', file=sys.stderr)
            sys.exit(gwtest.SKIP)
        pki = throwaway_pki.Pki(h.dir, ip=ADDRESS)
        cert, key = pki.server('server')
        spki = pki.spki_sha256('server')
        server = h.start('signal', [h.bin('signaling/roomcast-signal'), '--listen', f'{ADDRESS}:0',
                                    '--tls-certificate', cert, '--tls-key', key, '--static', web])
        port = int(h.wait_log(server, rf'listening on {ADDRESS.replace(".", r"[.]")}:(\d+) \(TLS\)', 10).group(1))

        argv = [h.bin('gateway/roomcast'), '--signaling-url', f'wss://{ADDRESS}:{port}/ws',
                '--signaling-ca-file', pki.ca, '--room', ROOM,
                '--recordings-dir', h.recordings, '--ice-local-address', '127.0.0.1',
                '--pipelines-dir', os.path.join(h.source_dir, 'pipelines'), '--pipeline', 'record-mkv']
        gateway = h.start('gateway', argv)
        h.wait_log(gateway, r'joined as hidden member', 20)

        browser = h.start('browser', ['node', os.path.join(HERE, 'tls_web_member.mjs'),
                                      f'https://{ADDRESS}:{port}/', ROOM, 'remote', str(STAY_SECONDS), spki])
        f.check(h.wait_exit(browser, STAY_SECONDS + 90) == 0, 'Chromium joined through the HTTPS web client')
        report = None
        for line in reversed(h.log_text(browser).splitlines()):
            if line.startswith('{'):
                report = json.loads(line)
                break
        if f.check(report is not None, 'the browser reported its state'):
            f.check(report['protocol'] == 'https:' and report['host'] == ADDRESS,
                    f'the page came over HTTPS from {report["host"]}, not loopback')
            f.check(report['secure'] is True, 'the page is a secure context (camera allowed)')
            f.check(any(s.startswith(f'wss://{ADDRESS}:{port}/') for s in report['sockets']),
                    f'the client signals over WSS ({report["sockets"]})')
            f.check(report['recordingBanner'], 'the recording banner shows the gateway is there')
        time.sleep(1)
        h.kill_group(gateway, 15)
        f.check(h.wait_exit(gateway, 20) == 0, 'the gateway exits 0')
        manifest = h.manifest(ROOM)
        files = [x for x in manifest['files'] if x.get('finished')]
        if f.check(len(files) == 1, f'one finished recording over WSS signaling ({len(files)})'):
            path = os.path.join(h.session_dir(ROOM), files[0]['path'])
            info, vpk, apk = gwtest.check_recording(f, path, 'vp8')
            f.check(len(vpk) > 20 * (STAY_SECONDS - 4), f'the recording has video ({len(vpk)} frames)')


if __name__ == '__main__':
    main()
