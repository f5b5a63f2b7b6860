#!/usr/bin/env python3
"""WHIP's error answers over real HTTP (http.client) against a running gateway: every bad
request gets a clear 4xx in the API's error shape, hostile SDP never crashes it, and a good
offer (a Chromium-shaped SDP, no real peer) still gets 201 with an answer afterwards.
"""

import os
import sys

import gwtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'ops'))
import opstest  # noqa: E402

ROOM = 'whiperr'
FP = ':'.join(['AB'] * 32)


def offer(video='VP8', direction='sendonly', extra_media=''):
    return ('v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n'
            'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n'
            'a=ice-pwd:0123456789012345678901\r\n'
            f'a=fingerprint:sha-256 {FP}\r\na=setup:actpass\r\na=mid:0\r\na={direction}\r\n'
            'a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n'
            'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n'
            'a=ice-pwd:0123456789012345678901\r\n'
            f'a=fingerprint:sha-256 {FP}\r\na=setup:actpass\r\na=mid:1\r\na={direction}\r\n'
            f'a=rtcp-mux\r\na=rtpmap:96 {video}/90000\r\n' + extra_media)


def main():
    gwtest.enter_netns()
    with gwtest.Harness('gateway-whip-errors', gwtest.build_dir_from_args()) as h:
        f = h.failures
        server, port = h.start_signal()
        gateway, api_port = opstest.start_gateway(h, port, rooms=(ROOM,), pipelines=('record-mkv',))
        h.wait_log(gateway, r'joined as hidden member', 15)
        api = opstest.Api(api_port)
        sdp = {'Content-Type': 'application/sdp'}

        def expect(what, method, path, body, status, code=None, token='default', headers=sdp):
            got, parsed, hdrs = api.request(method, path, body=body, token=token, headers=headers)
            ok = got == status and (code is None or (isinstance(parsed, dict) and parsed.get('error') == code))
            f.check(ok, f'{what}: {method} {path} -> {got} {parsed if not ok else code or ""}')
            return got, parsed, hdrs

        expect('no token', 'POST', f'/whip/{ROOM}', offer(), 401, 'unauthorized', token=None)
        expect('wrong token', 'POST', f'/whip/{ROOM}', offer(), 401, 'unauthorized', token='nope')
        expect('a room without a session', 'POST', '/whip/elsewhere', offer(), 404, 'room_not_found')
        expect('a bad room name', 'POST', '/whip/bad%20room', offer(), 404)
        expect('JSON instead of SDP', 'POST', f'/whip/{ROOM}', '{}', 415, 'unsupported_media_type',
               headers={'Content-Type': 'application/json'})
        expect('a body over the limit', 'POST', f'/whip/{ROOM}', 'v=0\r\n' + 'a=x\r\n' * 20000, 413)
        expect('not SDP', 'POST', f'/whip/{ROOM}', 'hello', 400, 'bad_offer')
        _, parsed, _ = expect('nothing we take', 'POST', f'/whip/{ROOM}', offer(video='H265').replace(
            'opus/48000/2', 'PCMU/8000'), 400, 'bad_offer')
        f.check(isinstance(parsed, dict) and 'H265' in parsed.get('message', '')
                and 'PCMU' in parsed.get('message', ''), f'the message says what was offered: {parsed}')
        expect('receive-only', 'POST', f'/whip/{ROOM}', offer(direction='recvonly'), 400, 'bad_offer')
        hostile = {
            'a NUL byte': offer().replace('s=-', 's=\x00'),
            'a 5000-byte line': offer().replace('s=-', 's=' + 'x' * 5000),
            '9 m-lines': offer() + ''.join('m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n'
                                           'a=rtpmap:111 opus/48000/2\r\n' for _ in range(7)),
            'no fingerprint': offer().replace(f'a=fingerprint:sha-256 {FP}\r\n', ''),
            'a huge payload type': offer().replace('SAVPF 96', 'SAVPF 99999999999999999999'),
            'a bare m-line': 'v=0\r\na=ice-ufrag:a\r\na=fingerprint:sha-256 AB\r\nm=\r\n',
            'binary garbage': bytes(range(256)) * 4,
        }
        for what, body in hostile.items():
            expect(f'hostile SDP ({what})', 'POST', f'/whip/{ROOM}', body, 400)
        expect('a bad name', 'POST', f'/whip/{ROOM}?name=%01bad', offer(), 400, 'bad_name')
        expect('PATCH (no trickle)', 'PATCH', f'/whip/{ROOM}/whip-0', 'a=candidate', 405, 'method_not_allowed',
               headers={'Content-Type': 'application/trickle-ice-sdpfrag'})
        expect('DELETE an unknown session', 'DELETE', f'/whip/{ROOM}/whip-0', None, 404, 'session_not_found')
        expect('GET', 'GET', f'/whip/{ROOM}', None, 405)

        # Still alive, and a good offer still works: 201, an answer with our candidate.
        status, answer, headers = api.request('POST', f'/whip/{ROOM}?name=ok', body=offer(), headers=sdp, raw=True)
        f.check(status == 201, f'a good offer after all that: {status} {answer[:200]}')
        location = headers.get('Location', '')
        f.check(location.startswith(f'/whip/{ROOM}/whip-'), f'Location {location}')
        f.check(headers.get('Content-Type', '').startswith('application/sdp'), f'answer type {headers.get("Content-Type")}')
        f.check('a=candidate:' in answer and '127.0.0.1' in answer and 'a=end-of-candidates' in answer,
                'the answer carries our 127.0.0.1 candidates')
        f.check('a=recvonly' in answer, 'the answer receives only')
        people = api.rooms().get(ROOM, {}).get('participants', [])
        f.check([p.get('name') for p in people if p.get('source') == 'whip'] == ['ok'], f'listed: {people}')
        if location:
            expect('DELETE the session', 'DELETE', location, None, 200)
            expect('DELETE it again', 'DELETE', location, None, 404, 'session_not_found')
        f.check(gateway.poll() is None, 'the gateway still runs')
        status, _, _ = api.get('/healthz')
        f.check(status == 200, f'/healthz {status}')
        server.terminate()


if __name__ == '__main__':
    main()
