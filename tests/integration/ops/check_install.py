#!/usr/bin/env python3
"""`meson install` into a DESTDIR puts everything where the docs and the units say.

Checks: both binaries in bindir, the shipped templates in
datadir/roomcast/pipelines, the example config in sysconfdir/roomcast with an
empty roomcast.conf.d/ drop-in folder, and both units in the systemd unit
folder (pkg-config's systemdsystemunitdir under the prefix), configured (no
@var@ left) with ExecStart in bindir. Usage: check_install.py BUILD_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main(build):
    failures = []

    def check(ok, what):
        print(('ok   ' if ok else 'FAIL ') + what)
        if not ok:
            failures.append(what)

    opts = json.loads(subprocess.run(['meson', 'introspect', '--buildoptions', build], check=True,
                                     capture_output=True, text=True).stdout)
    opt = {o['name']: o['value'] for o in opts}
    prefix = opt['prefix']
    bindir = os.path.join(prefix, opt['bindir'])
    datadir = os.path.join(prefix, opt['datadir'])
    sysconfdir = os.path.join(prefix, opt['sysconfdir'])
    dest = tempfile.mkdtemp(prefix='roomcast-install-')
    try:
        out = subprocess.run(['meson', 'install', '-C', build, '--no-rebuild', '--destdir', dest, '--quiet'],
                             capture_output=True, text=True)
        check(out.returncode == 0, f'meson install succeeds {out.stderr.strip()[-400:]}')
        at = lambda p: os.path.join(dest, p.lstrip('/'))  # noqa: E731
        for exe in ('roomcast', 'roomcast-signal'):
            check(os.access(at(os.path.join(bindir, exe)), os.X_OK), f'{bindir}/{exe}')
        pipes = at(os.path.join(datadir, 'roomcast', 'pipelines'))
        shipped = sorted(os.listdir(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'pipelines')))
        shipped = [x for x in shipped if x.endswith('.pipeline')]
        installed = sorted(os.listdir(pipes)) if os.path.isdir(pipes) else []
        check(shipped and installed == shipped, f'templates in {datadir}/roomcast/pipelines: {installed}')
        conf = at(os.path.join(sysconfdir, 'roomcast', 'roomcast.conf'))
        check(os.path.isfile(conf), f'{sysconfdir}/roomcast/roomcast.conf')
        dropins = at(os.path.join(sysconfdir, 'roomcast', 'roomcast.conf.d'))
        check(os.path.isdir(dropins) and not os.listdir(dropins), f'{sysconfdir}/roomcast/roomcast.conf.d/ (empty)')
        units = {}
        for root, _, files in os.walk(dest):
            for name in files:
                if name in ('roomcast.service', 'roomcast-signal.service'):
                    units[name] = os.path.join(root, name)
        check(set(units) == {'roomcast.service', 'roomcast-signal.service'}, f'both units installed: {sorted(units)}')
        for name, path in units.items():
            rel = '/' + os.path.relpath(os.path.dirname(path), dest)
            check(rel.startswith(prefix) and rel.endswith('/systemd/system'),
                  f'{name} in a systemd unit folder under the prefix ({rel})')
            with open(path) as f:
                text = f.read()
            check(not re.search(r'@[A-Za-z_]+@', text), f'{name}: configured, no @var@ left')
            exe = 'roomcast-signal' if 'signal' in name else 'roomcast'
            check(f'ExecStart={bindir}/{exe}' in text, f'{name}: ExecStart={bindir}/{exe}')
            if name == 'roomcast.service':
                for line in ('Type=notify', 'WatchdogSec=', 'ExecReload=', 'DynamicUser=yes',
                             'StateDirectory=roomcast', 'ConfigurationDirectory=roomcast',
                             'MemoryDenyWriteExecute=yes', 'Environment=ORC_CODE=backup'):
                    check(line in text, f'{name}: {line}')
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    if failures:
        print(f'{len(failures)} failure(s)')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
