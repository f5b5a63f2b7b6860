"""A real SRT receiver for the tests: Debian's srt-live-transmit listening on loopback, writing the TS it gets to a file.

Started inside the test's own network namespace (gwtest.enter_netns()), on a
free UDP port; stop() and start() again on the same port simulate a receiver
going away and coming back. Each start() writes a new file (recv-N.ts).
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys

SKIP = 77


def require():
    """Exits 77 (a meson skip) when srt-live-transmit (Debian srt-tools, in scripts/setup.sh) is missing."""
    if not shutil.which('srt-live-transmit'):
        print('skip: srt-live-transmit is not installed (apt-get install srt-tools)', file=sys.stderr)
        sys.exit(SKIP)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class SrtReceiver:
    """srt-live-transmit "srt://127.0.0.1:PORT?mode=listener[&passphrase=...]" file://con > recv-N.ts."""

    def __init__(self, folder, name, passphrase=None, harness=None):
        self.dir = os.path.join(folder, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_udp_port()
        self.passphrase = passphrase
        self.harness = harness
        self.proc = None
        self.files = []
        self.logs = []
        # A test that fails with an exception must not leave a receiver behind.
        atexit.register(self.stop)

    def url(self):
        return f'srt://127.0.0.1:{self.port}'

    def start(self):
        query = 'mode=listener'
        if self.passphrase:
            query += f'&passphrase={self.passphrase}'
        n = len(self.files) + 1
        out_path = os.path.join(self.dir, f'recv-{n}.ts')
        log_path = os.path.join(self.dir, f'recv-{n}.log')
        self.files.append(out_path)
        self.logs.append(log_path)
        with open(out_path, 'wb') as out, open(log_path, 'wb') as err:
            # Auto-reconnect (the default) keeps it listening after a caller goes or is rejected.
            self.proc = subprocess.Popen(
                ['srt-live-transmit', '-loglevel:warn',
                 f'srt://127.0.0.1:{self.port}?{query}', 'file://con'],
                stdout=out, stderr=err, start_new_session=True)
        if self.harness:
            self.harness.say(f'srt-live-transmit listens on {self.url()} -> {os.path.basename(out_path)}')
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def size(self, index=-1):
        try:
            return os.path.getsize(self.files[index])
        except (IndexError, OSError):
            return 0

    def log_text(self):
        text = ''
        for p in self.logs:
            try:
                with open(p, 'rb') as f:
                    text += f.read().decode('utf-8', 'replace')
            except OSError:
                pass
        return text
