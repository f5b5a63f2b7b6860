#!/usr/bin/env python3
"""The control API over HTTPS: --api-tls-certificate/--api-tls-key with a throwaway openssl CA.

A client that trusts the CA gets its answers (and the token is still required); one that does
not is refused by its own verification; plain HTTP gets nothing; SIGHUP puts a renewed
certificate on new connections; a bad key file is a start-up error naming the file.
"""

import http.client
import os
import shutil
import signal
import ssl

import opstest
import gwtest
import throwaway_pki

ROOM = 'apitls'


def https_get(port, path, cafile, token=opstest.TOKEN):
    """(status, peer certificate DER) over HTTPS verified against cafile."""
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    conn = http.client.HTTPSConnection('127.0.0.1', port, context=ctx, timeout=10)
    try:
        conn.request('GET', path, headers={'Authorization': f'Bearer {token}'} if token else {})
        peer = conn.sock.getpeercert(binary_form=True)
        resp = conn.getresponse()
        resp.read()
        return resp.status, peer
    finally:
        conn.close()


def main():
    gwtest.enter_netns()
    with gwtest.Harness('ops-api-tls', gwtest.build_dir_from_args()) as h:
        f = h.failures
        if not shutil.which('openssl'):
            print('skip: openssl missing', flush=True)
            raise SystemExit(gwtest.SKIP)
        pki = throwaway_pki.Pki(h.dir)
        for stem in ('a', 'b'):
            pki.server(stem)
        cert, key = os.path.join(h.dir, 'api.pem'), os.path.join(h.dir, 'api.key')
        shutil.copy(os.path.join(h.dir, 'a.pem'), cert)
        shutil.copy(os.path.join(h.dir, 'a.key'), key)
        ca = pki.ca

        server, port = h.start_signal()
        gateway, api = opstest.start_gateway(h, port, rooms=[ROOM], extra=[
            '--api-tls-certificate', cert, '--api-tls-key', key])
        f.check('(TLS)' in h.log_text(gateway), 'the log says the control API speaks TLS')

        status, peer = https_get(api, '/v1/rooms', ca)
        f.check(status == 200, f'HTTPS with the CA trusted: GET /v1/rooms {status}')
        f.check(peer == pki.der('a'), 'the certificate served is the configured one')
        status, _ = https_get(api, '/v1/rooms', ca, token=None)
        f.check(status == 401, f'the token is still required over TLS ({status})')
        try:
            https_get(api, '/v1/rooms', None)
            f.check(False, 'a client without the CA must refuse the certificate')
        except ssl.SSLCertVerificationError:
            f.check(True, 'a client without the CA refuses the certificate (its check is on)')
        try:
            status, _, _ = opstest.Api(api).get('/v1/rooms', timeout=5)
            f.check(False, f'plain HTTP must not be answered ({status})')
        except (http.client.HTTPException, OSError):
            f.check(True, 'plain HTTP gets no answer')

        shutil.copy(os.path.join(h.dir, 'b.pem'), cert)
        shutil.copy(os.path.join(h.dir, 'b.key'), key)
        os.killpg(gateway.pid, signal.SIGHUP)
        h.wait_log(gateway, r'reload: control API TLS certificate', 10)
        status, peer = https_get(api, '/v1/rooms', ca)
        f.check(status == 200 and peer == pki.der('b'), 'after SIGHUP new connections get the renewed certificate')

        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'the gateway exits 0')

        opstest.write(os.path.join(h.dir, 'broken.key'), 'not a key\n')
        bad = h.start('gateway-bad', [h.bin('gateway/roomcast'), '--room', ROOM, '--check-config',
                                      '--config', opstest.write(os.path.join(h.dir, 'e.conf'), '# none\n'),
                                      '--api-tls-certificate', cert, '--api-tls-key',
                                      os.path.join(h.dir, 'broken.key')])
        code = h.wait_exit(bad, 20)
        text = h.log_text(bad)
        f.check(code != 0 and 'broken.key' in text, f'a bad key file stops the start, naming it (exit {code})')


if __name__ == '__main__':
    main()
