#!/usr/bin/env python3
"""Signaling loss while recording.

Phase 1: only the gateway's WebSocket is cut (a TCP proxy between gateway
and room server drops it for a second). The gateway rejoins and sees the
same member. If the participant kept its connection to the gateway, the
gateway offers nothing again and the recording goes on with no gap; if it
dropped it (the test peer closes its session with the recorder when told
the room is no longer recorded), the gateway makes a new peer connection
within seconds of rejoining, inside the same receiver: the same file goes
on (one file for the whole presence), the media between the two connections
is a network gap in the manifest, audio filled with silence, and video and
audio continue after it.

Phase 2: the room server itself restarts on the same port: the gateway
rejoins, re-attaches its receiver to the participant's new id by name, and
(the test peer closed its session again) records it again through a new peer
connection in the same receiver: no new file.

(No-gap recording across a room server restart, with a participant that
keeps its peer connection, is tests/e2e/gateway restart, with Chromium.)
"""

import os
import re
import signal
import socket
import threading
import time

import gwtest

ROOM = 'reconnect'


class Proxy:
    """A TCP relay 127.0.0.1:listen -> 127.0.0.1:target whose connections can be cut."""

    def __init__(self, target):
        self.target = target
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(('127.0.0.1', 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.lock = threading.Lock()
        self.sockets = []
        self.accepting = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                if not self.accepting:
                    client.close()
                    continue
            try:
                upstream = socket.create_connection(('127.0.0.1', self.target), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self, seconds):
        with self.lock:
            self.accepting = False
            doomed, self.sockets = self.sockets, []
        for s in doomed:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        time.sleep(seconds)
        with self.lock:
            self.accepting = True


def main():
    gwtest.enter_netns()
    with gwtest.Harness('gateway-reconnect', gwtest.build_dir_from_args()) as h:
        f = h.failures
        server, port = h.start_signal()
        proxy = Proxy(port)
        gateway = h.start_gateway(proxy.port, ROOM)
        peer = h.start_testpeer(port, ROOM, 'dave', 'vp8', duration=0, pattern='ball')
        h.wait_log(gateway, r'\.mkv started', 20)
        time.sleep(2)

        # Phase 1: the gateway's signaling drops; the participant's does not.
        h.say('cutting the gateway\'s signaling connection')
        mark = len(h.log_text(gateway))
        peer_mark = len(h.log_text(peer))
        proxy.cut(1.0)
        h.wait_log(gateway, r'rejoined as hidden member', 15, after=mark)
        rejoined = time.monotonic()
        h.say('gateway rejoined')
        dropped = 'closing session with' in h.log_text(peer)[peer_mark:]
        if dropped:
            h.say('the test peer dropped its session with the gateway during the outage')
            h.wait_log(gateway, r'receiving video VP8 again into the same outputs', 10, after=mark)
            h.wait_log(gateway, r'receiving audio OPUS again into the same outputs', 5, after=mark)
            f.check(time.monotonic() - rejoined < 4.0,
                    f'phase 1: recording again {time.monotonic() - rejoined:.1f} s after the rejoin (< 4 s)')
            time.sleep(4)
            log = h.log_text(gateway)
            f.check('new peer connection into the same outputs' in log[mark:],
                    'phase 1: a new peer connection inside the same receiver')
            f.check(re.search(r'-2\.mkv started', log[mark:]) is None, 'phase 1: no second file')
            f.check(log[mark:].count('finishing participant') == 0, 'phase 1: the participant was not finished')
        else:
            time.sleep(3)
            log = h.log_text(gateway)
            f.check(log.count('offering to ') == 1, f'phase 1: no second offer ({log.count("offering to ")} offers)')
            f.check(log[mark:].count('finishing participant') == 0, 'phase 1: the recording was not interrupted')
        files_before_restart = len(re.findall(r'\.mkv started', h.log_text(gateway)))

        # Phase 2: the room server restarts on the same port.
        h.say('restarting the room server')
        mark = len(h.log_text(gateway))
        server.send_signal(signal.SIGTERM)
        h.wait_exit(server, 10)
        time.sleep(0.5)
        server2, port2 = h.start_signal(port)
        f.check(port2 == port, 'room server back on the same port')
        h.wait_log(gateway, r'rejoined as hidden member', 20, after=mark)
        # The test peer rejoins under a new id and closed its session with us: re-attached by
        # name, rechecked, and a new peer connection inside the same receiver (same file).
        h.wait_log(gateway, r'receiver for \S+ continues as', 20, after=mark)
        h.wait_log(gateway, r'receiving video VP8 again into the same outputs', 20, after=mark)
        h.say('participant recorded again after the restart, in the same receiver')
        time.sleep(2)
        peer.send_signal(signal.SIGTERM)
        h.wait_exit(peer, 10)
        time.sleep(1)
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 15) == 0, 'gateway exits 0 on SIGTERM')

        manifest = h.manifest(ROOM)
        files = sorted(manifest['files'], key=lambda x: x['start'])
        f.check(len(files) == files_before_restart,
                f'no new file after the restart ({[x["path"] for x in files]})')
        if dropped:
            f.check(files_before_restart == 1, f'phase 1: one file before the restart ({files_before_restart})')
        for i, entry in enumerate(files):
            f.check(entry.get('finished') is True, f'{entry["path"]} finalized')
            path = os.path.join(h.session_dir(ROOM), entry['path'])
            info, vpk, apk = gwtest.check_recording(f, path, 'vp8')
            ok, err = gwtest.decodes(path)
            f.check(ok, f'{entry["path"]} decodes cleanly ({err})')
            f.check(gwtest.largest_gap(apk) < gwtest.allowance(0.5), f'{entry["path"]}: no audio gap ({gwtest.largest_gap(apk):.2f} s)')
            gaps = [g for g in manifest.get('gaps', []) if g['participant'] == entry['participant']]
            if i > 0 or not dropped:
                f.check(gwtest.largest_gap(vpk) < gwtest.allowance(0.5),
                        f'{entry["path"]}: no video gap ({gwtest.largest_gap(vpk):.2f} s)')
                continue
            # Phase 1's file spans both peer connections: the gap between them is marked, and
            # media continues after it in the same file.
            h.say(f'phase 1 gaps: {gaps}; video gap {gwtest.largest_gap(vpk):.2f} s')
            net = [g for g in gaps if g['cause'] == 'network' and g.get('end') is not None]
            if f.check(len(net) >= 1, f'phase 1: a network gap in the manifest ({gaps})'):
                end_in_file = net[0]['end'] - entry['start']
                f.check(net[0]['end'] - net[0]['start'] < 8.0,
                        f'phase 1: the gap lasts {net[0]["end"] - net[0]["start"]:.1f} s (< 8 s)')
                vlate = [p for p in vpk if p['pts'] >= end_in_file + 0.5]
                alate = [p for p in apk if p['pts'] >= end_in_file + 0.5]
                f.check(len(vlate) >= 30, f'phase 1: {len(vlate)} video packets after the reconnection (>= 30)')
                f.check(len(alate) >= 50, f'phase 1: {len(alate)} audio packets after the reconnection (>= 50)')
                f.check(gwtest.largest_gap(vpk) < gwtest.allowance(8.0),
                        f'{entry["path"]}: video only paused between the connections '
                        f'({gwtest.largest_gap(vpk):.2f} s)')
        server2.send_signal(signal.SIGTERM)


if __name__ == '__main__':
    main()
