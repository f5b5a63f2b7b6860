"""A real RTMP server for the restream tests: nginx with the RTMP module on a loopback port, from a config in a temp dir.

nginx runs in the foreground (`daemon off; master_process off`), one
process, so its PID is the server: stopping it by PID stops the server, and
starting it again from the same config binds the same port (a "server
restart" as a broadcast ingest would see it). Everything nginx writes (pid
file, error log, lock, its own FLV recordings) stays in the temp dir. The
application `live` records every stream it receives (`record all`,
`record_unique on`), so a test can probe what the server actually got as
well as the live stream.

Works as root inside `unshare -n` (the tests' loopback-only namespace); the
processes go through the gwtest.Harness when one is given, so they are
logged and killed with the rest of the test.
"""

import glob
import json
import os
import re
import signal
import socket
import subprocess
import time

MODULE_CANDIDATES = ['/usr/lib/nginx/modules/ngx_rtmp_module.so', '/usr/share/nginx/modules/ngx_rtmp_module.so']
NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx']


def find_nginx():
    """(nginx binary, rtmp module) or None when either is missing (scripts/setup.sh installs both)."""
    binary = next((p for p in NGINX_CANDIDATES if os.access(p, os.X_OK)), None)
    module = next((p for p in MODULE_CANDIDATES if os.path.exists(p)), None)
    if not binary or not module:
        return None
    return binary, module


def free_port():
    """A TCP port free on 127.0.0.1 right now (nothing else binds in a private namespace)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def port_open(port, host='127.0.0.1'):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


CONFIG = """\
# Written by tests/integration/restream/rtmp_fixture.py: a throw-away RTMP ingest.
load_module {module};
daemon off;
master_process off;
worker_processes 1;
user root;
pid {dir}/nginx.pid;
lock_file {dir}/nginx.lock;
error_log {dir}/error.log info;
events {{
    worker_connections 256;
}}
rtmp {{
    server {{
        listen 127.0.0.1:{port};
        chunk_size 4096;
        # A publisher that stops sending is dropped after this long (the
        # module's default is 30 s).
        drop_idle_publisher 10s;
        application live {{
            live on;
            # Anyone may publish and play: loopback only, in a private namespace.
            record all;
            record_path {dir}/rec;
            record_unique on;
        }}
    }}
}}
"""


class NginxRtmp:
    """One nginx RTMP server; start(), stop(), restart(), url(), recordings()."""

    def __init__(self, directory, harness=None, port=None):
        found = find_nginx()
        if not found:
            raise RuntimeError('nginx or its RTMP module is missing (apt-get install nginx libnginx-mod-rtmp, '
                               'as scripts/setup.sh does)')
        self.binary, self.module = found
        self.harness = harness
        self.dir = os.path.join(os.path.abspath(directory), 'nginx')
        self.rec_dir = os.path.join(self.dir, 'rec')
        os.makedirs(self.rec_dir, exist_ok=True)
        self.port = port or free_port()
        self.conf = os.path.join(self.dir, 'nginx.conf')
        with open(self.conf, 'w') as f:
            f.write(CONFIG.format(module=self.module, dir=self.dir, port=self.port))
        self.proc = None
        self.starts = 0

    # ----- lifecycle -----
    def start(self, timeout=10):
        """Starts nginx in the foreground and waits until the port accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError('nginx is already running')
        # -e: the built-in error log path is opened before the config is read.
        argv = [self.binary, '-p', self.dir + '/', '-c', self.conf, '-e', os.path.join(self.dir, 'error.log')]
        self.starts += 1
        label = 'nginx' if self.starts == 1 else f'nginx-{self.starts}'
        if self.harness is not None:
            self.proc = self.harness.start(label, argv)
        else:
            log = open(os.path.join(self.dir, f'{label}.log'), 'wb')
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, cwd=self.dir)
            self.proc.label = label
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'nginx exited ({self.proc.returncode}) at start; error log:\n'
                                   + self.error_log()[-2000:])
            if port_open(self.port):
                self.started_at = time.monotonic()
                return self
            time.sleep(0.05)
        raise RuntimeError(f'nginx did not listen on 127.0.0.1:{self.port} within {timeout} s')

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops nginx by its PID (SIGTERM: fast shutdown, connections dropped) and waits for it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, sig)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass
        # The port must really be free before a restart is attempted.
        deadline = time.monotonic() + timeout
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.stopped_at = time.monotonic()

    def restart(self, down_seconds=0.0):
        """Stops nginx, keeps the port closed for down_seconds, starts it again on the same port."""
        self.stop()
        if down_seconds > 0:
            time.sleep(down_seconds)
        return self.start()

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # ----- what it serves and records -----
    def url(self, key, app='live'):
        return f'rtmp://127.0.0.1:{self.port}/{app}/{key}'

    def recordings(self, key=None):
        """nginx's own FLV recordings (record_unique: one per publish, KEY-UNIXTIME.flv), oldest first."""
        pattern = f'{key}-*.flv' if key else '*.flv'
        files = glob.glob(os.path.join(self.rec_dir, pattern))
        # Names carry a seconds timestamp; equal seconds fall back to mtime.
        def order(p):
            m = re.search(r'-(\d+)\.flv$', p)
            return (int(m.group(1)) if m else 0, os.path.getmtime(p))
        return sorted(files, key=order)

    def error_log(self):
        try:
            with open(os.path.join(self.dir, 'error.log'), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def publishes(self):
        """The number of 'publish' commands in the error log (one per accepted push)."""
        return len(re.findall(r'publish: name=', self.error_log()))


def wait_until(predicate, timeout, interval=0.1):
    """Polls predicate until it returns something truthy; returns it, or None after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def probe_live(url, timeout=15):
    """ffprobe of a live RTMP stream: the JSON of -show_streams, or raises with ffprobe's message."""
    argv = ['ffprobe', '-v', 'error', '-rw_timeout', str(int(timeout * 1e6)), '-print_format', 'json',
            '-show_streams', '-show_format', url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 5)
    if out.returncode != 0:
        raise RuntimeError(f'ffprobe cannot read {url}: {out.stderr.strip()[-400:]}')
    return json.loads(out.stdout)
