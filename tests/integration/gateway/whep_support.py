"""What the WHEP tests share (integration: test_whep_viewers.py; e2e: test_whep.py, test_whep_watch.py).

Viewer tokens (HS256 JWTs signed by the test itself), plain HTTP requests to the control API,
the API's error code, a process's CPU time, and the common end of a test.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os


def jwt(claims, secret):
    """An HS256 JWT with these claims (the gateway's --whep-token-secret-file holds secret)."""
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b'=').decode()
    head = b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f'{head}.{body}'.encode(), hashlib.sha256).digest()
    return f'{head}.{body}.{b64(sig)}'


def request(api, method, path, body=b'', headers=None):
    """(status, lower-cased headers, body bytes) of one request to 127.0.0.1:api."""
    conn = http.client.HTTPConnection('127.0.0.1', api, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


def error_code(body):
    """The API error shape's 'error' field, or None."""
    try:
        return json.loads(body).get('error')
    except ValueError:
        return None


def process_cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def finish(h, f, server, gateway, peers):
    """Stops the peers, then the gateway (which must exit 0 on SIGTERM), then the room server."""
    for p in peers:
        h.kill_group(p)
    h.kill_group(gateway, 15)
    f.check(h.wait_exit(gateway, 30) == 0, 'gateway exits 0 on SIGTERM')
    server.send_signal(15)
