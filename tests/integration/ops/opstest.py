"""Shared helpers of the operations tests that run the real roomcast: the control API over HTTP, /metrics
through the strict exposition parser, and a webhook receiver.

Builds on tests/integration/gateway/gwtest.py (loopback-only network namespace,
process groups, ffprobe helpers); everything listens on 127.0.0.1 only.
"""

import hashlib
import hmac
import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gateway'))
import gwtest  # noqa: E402

TOKEN = 'test-token-0123456789'
SECRET = 'webhook-secret-abcdef'

# A participant-scope template with a URL parameter, for the validation
# tests: the API must refuse what the declaration does not allow. Its sink
# is rtmp2sink (gst-plugins-bad) so that set=sink.location names the real
# property; the tests never start it.
URL_TEMPLATE = """\
scope: participant
description: test output with an rtmp URL parameter (never started by the tests)
video-codecs: VP8, H264
audio-codecs: OPUS
param: rtmp_url url required schemes=rtmp,rtmps set=sink.location
param: label string default=x
---
queue name=video ! fakesink sync=false async=false
queue name=audio ! fakesink sync=false async=false
fakesrc num-buffers=0 ! rtmp2sink name=sink async=false
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return path


def start_gateway(h, port, rooms=(), pipelines=None, extra=(), config=None, label='gateway', env=None, **popen):
    """roomcast with the control API on an ephemeral loopback port and a token; returns (proc, api_port)."""
    token_file = write(os.path.join(h.dir, 'api-token'), TOKEN + '\n')
    argv = [h.bin('gateway/roomcast'), '--signaling-url', f'ws://127.0.0.1:{port}/ws',
            '--recordings-dir', h.recordings, '--ice-local-address', '127.0.0.1',
            '--pipelines-dir', os.path.join(h.source_dir, 'pipelines'), '--log-level', 'debug',
            '--api-listen', '127.0.0.1:0', '--api-token-file', token_file]
    # Never the installed /etc/roomcast/roomcast.conf.
    argv += ['--config', config or write(os.path.join(h.dir, 'empty.conf'), '# none\n')]
    for room in rooms:
        argv += ['--room', room]
    for name in pipelines or ():
        argv += ['--pipeline', name]
    e = dict(os.environ)
    e.pop('NOTIFY_SOCKET', None)
    e.update(env or {})
    p = h.start(label, argv + list(extra), env=e, **popen)
    m = h.wait_log(p, r'control API listening on 127\.0\.0\.1:(\d+)', 15)
    return p, int(m.group(1))


class Api:
    """A tiny client of the control API; every call returns (status, parsed JSON or text, headers)."""

    def __init__(self, port, token=TOKEN):
        self.port = port
        self.token = token

    def request(self, method, path, body=None, token='default', headers=None, raw=False, timeout=30):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        h = dict(headers or {})
        tok = self.token if token == 'default' else token
        if tok is not None:
            h['Authorization'] = f'Bearer {tok}'
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
            h.setdefault('Content-Type', 'application/json')
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            payload = resp.read()
        finally:
            conn.close()
        text = payload.decode('utf-8', 'replace')
        if raw:
            return resp.status, text, dict(resp.getheaders())
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return resp.status, parsed, dict(resp.getheaders())

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, body, **kw):
        return self.request('POST', path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    def rooms(self):
        status, body, _ = self.get('/v1/rooms')
        if status != 200:
            raise RuntimeError(f'GET /v1/rooms: {status} {body}')
        return {r['room']: r for r in body['rooms']}

    def metrics(self, h):
        status, text, headers = self.get('/metrics', raw=True)
        if status != 200:
            raise RuntimeError(f'GET /metrics: {status}')
        return parse_metrics(h, text), headers


def parse_metrics(h, text):
    """The exposition parsed by tests/unit/gateway/ops' strict parser (exposition-check); raises if invalid."""
    out = subprocess.run([h.bin('tests/unit/gateway/ops/exposition-check')], input=text, capture_output=True,
                         text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f'/metrics is not valid exposition text: {out.stderr.strip()}')
    return json.loads(out.stdout)


def metric(families, name, **labels):
    """Sum of the samples of a family whose labels include the given ones (None if no such family)."""
    fam = families.get(name)
    if fam is None:
        return None
    return sum(s['value'] for s in fam['samples']
               if all(s['labels'].get(k) == v for k, v in labels.items()))


def wait_until(pred, timeout, what, step=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise RuntimeError(f'timed out after {timeout} s waiting for {what} (last: {last})')


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records every POST (headers, body, arrival time).

    hang=True accepts connections and never answers (a dead receiver)."""

    def __init__(self, hang=False):
        self.events = []
        self.lock = threading.Lock()
        self.hang = hang
        if hang:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(('127.0.0.1', 0))
            self.sock.listen(64)
            self.port = self.sock.getsockname()[1]
            self.conns = []
            self.thread = threading.Thread(target=self._accept_forever, daemon=True)
        else:
            receiver = self

            class Handler(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    length = int(self.headers.get('Content-Length', 0))
                    body = self.rfile.read(length)
                    with receiver.lock:
                        receiver.events.append({'headers': {k.lower(): v for k, v in self.headers.items()},
                                                'body': body, 'at': time.monotonic()})
                    self.send_response(204)
                    self.end_headers()

                def log_message(self, *args):
                    pass

            self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
            self.port = self.server.server_address[1]
            self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _accept_forever(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)  # kept open, never read or answered

    @property
    def url(self):
        return f'http://127.0.0.1:{self.port}/hooks'

    def names(self):
        with self.lock:
            return [json.loads(e['body'])['event'] for e in self.events]

    def parsed(self):
        with self.lock:
            return [json.loads(e['body']) for e in self.events]

    def close(self):
        if self.hang:
            self.sock.close()
            for c in self.conns:
                c.close()
        else:
            self.server.shutdown()
            self.server.server_close()


def signature_ok(event, secret=SECRET):
    want = 'sha256=' + hmac.new(secret.encode(), event['body'], hashlib.sha256).hexdigest()
    return hmac.compare_digest(event['headers'].get('x-roomcast-signature', ''), want)
