#!/usr/bin/env python3
"""CORS from a real browser: a page served on one origin calls the gateway's control API on another.

The gateway runs with --cors-origin http://127.0.0.1:PORT_A (and a token). A tiny HTTP server on
127.0.0.1:PORT_A serves a blank page; headless Chromium loads it and fetch()es the API on
127.0.0.1:PORT_B with Authorization (a non-simple request: the browser sends a preflight first).
Checks: from the allowed origin GET /v1/rooms and a POST .../pause are readable (200, 404 in the
API's error shape); from a second page server (PORT_C, not allowed) the browser blocks both
(TypeError: Failed to fetch), and nothing was paused by it.
"""

import http.server
import json
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'integration', 'ops'))
import opstest  # noqa: E402
from opstest import gwtest  # noqa: E402


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'<!doctype html><title>cors</title><p>another origin</p>'
        self.send_response(200)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def fetch(h, page_port, api_port, method, path):
    argv = ['node', os.path.join(HERE, 'cors_fetch.mjs'), f'http://127.0.0.1:{page_port}/',
            f'http://127.0.0.1:{api_port}{path}', method, opstest.TOKEN]
    p = h.start(f'chromium-{page_port}-{method}', argv)
    if h.wait_exit(p, 60) != 0:
        raise RuntimeError(f'cors_fetch.mjs failed: {h.log_text(p)[-800:]}')
    for line in reversed(h.log_text(p).splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    raise RuntimeError('no result line from cors_fetch.mjs')


def main():
    gwtest.enter_netns()
    with gwtest.Harness('gateway-cors', gwtest.build_dir_from_args()) as h:
        h.require_browser()
        f = h.failures
        allowed, port_a = serve()
        other, port_c = serve()
        _, sig_port = h.start_signal()
        gw, api_port = opstest.start_gateway(h, sig_port, extra=['--cors-origin', f'http://127.0.0.1:{port_a}'])

        r = fetch(h, port_a, api_port, 'GET', '/v1/rooms')
        f.check(r.get('ok') and r.get('status') == 200 and '"rooms"' in r.get('body', ''),
                f'allowed origin: GET /v1/rooms readable ({r})')
        r = fetch(h, port_a, api_port, 'POST', '/v1/rooms/nosuch/outputs/record-mkv-1/pause')
        f.check(r.get('ok') and r.get('status') == 404 and 'room_not_found' in r.get('body', ''),
                f'allowed origin: POST pause readable, 404 room_not_found ({r})')

        r = fetch(h, port_c, api_port, 'GET', '/v1/rooms')
        f.check(r.get('blocked') is True, f'other origin: GET blocked by the browser ({r})')
        r = fetch(h, port_c, api_port, 'POST', '/v1/rooms/nosuch/outputs/record-mkv-1/pause')
        f.check(r.get('blocked') is True, f'other origin: POST blocked by the browser ({r})')
        log = h.log_text(gw)
        f.check('paused by the control API' not in log, 'nothing was paused')
        allowed.shutdown()
        other.shutdown()


if __name__ == '__main__':
    main()
