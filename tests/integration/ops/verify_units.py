#!/usr/bin/env python3
"""Checks the configured systemd units: `systemd-analyze verify` must be silent,
`systemd-analyze security --offline` must rate them well, and the directives
the operations issue requires must be there.

Usage: verify_units.py BUILT_UNIT VERIFY_COPY [BUILT_UNIT VERIFY_COPY ...]
BUILT_UNIT is the unit as installed (ExecStart under the prefix); VERIFY_COPY
is the same template configured with ExecStart pointing into the build tree,
since `verify` insists that the executable exists. Exit 77 (skip) without
systemd-analyze.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Every unit has all of these (the sandboxing list, plus notify).
REQUIRED = {
    "Type": "notify",
    "NotifyAccess": "main",
    "DynamicUser": "yes",
    "ConfigurationDirectory": "roomcast",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "NoNewPrivileges": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "SystemCallFilter": "@system-service",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
}
PER_UNIT = {
    "roomcast.service": {
        "StateDirectory": "roomcast",
        "ExecReload": "/bin/kill -HUP $MAINPID",
        # W^X is only safe for GStreamer with ORC's C fallbacks.
        "Environment": "ORC_CODE=backup,emulate",
    },
    "roomcast-signal.service": {},
}
MAX_EXPOSURE = 2.5  # systemd-analyze security: 0 (locked down) .. 10 (exposed)

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def directives(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def verify(path, env):
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                       capture_output=True, text=True, env=env, timeout=60)
    return r.returncode, (r.stdout + r.stderr).strip()


def main(args):
    if not shutil.which("systemd-analyze"):
        print("systemd-analyze not found: skipping")
        return 77
    if len(args) < 2 or len(args) % 2:
        print(__doc__)
        return 2
    env = dict(os.environ, SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER="")
    with tempfile.TemporaryDirectory() as tmp:
        for built, copy in zip(args[0::2], args[1::2]):
            name = os.path.basename(built)
            print("==", name)
            # verify derives the unit name from the file name.
            unit = os.path.join(tmp, name)
            shutil.copy(copy, unit)

            # The two configurations differ in ExecStart only.
            a, b = directives(built), directives(unit)
            exec_built, exec_copy = a.pop("ExecStart", [""])[0], b.pop("ExecStart", [""])[0]
            if a != b:
                fail(f"{name}: the verified copy differs from the installed unit beyond ExecStart")
            binary = exec_copy.split()[0]
            if not os.access(binary, os.X_OK):
                fail(f"{name}: ExecStart {binary} is not an executable in the build tree")
            if os.path.basename(binary) != exec_built.split()[0].rsplit("/", 1)[-1]:
                fail(f"{name}: ExecStart names different programs: {exec_built} / {exec_copy}")
            if not exec_built.startswith("/"):
                fail(f"{name}: ExecStart {exec_built} is not absolute")

            for key, value in {**REQUIRED, **PER_UNIT.get(name, {})}.items():
                if value not in a.get(key, []):
                    fail(f"{name}: {key}={value} missing (have {a.get(key)})")
            if name == "roomcast.service" and "WatchdogSec" not in a:
                fail(f"{name}: WatchdogSec missing")

            # verify prints warnings (unknown keys, bad values) yet exits 0:
            # any output at all is a failure.
            rc, out = verify(unit, env)
            print(out or "(verify: no output)")
            if rc != 0 or out:
                fail(f"{name}: systemd-analyze verify (exit {rc}): {out}")

            r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", unit],
                               capture_output=True, text=True, env=env, timeout=60)
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
            if not m:
                fail(f"{name}: no exposure level from systemd-analyze security: {r.stdout}{r.stderr}")
            else:
                print(f"exposure {m.group(1)} (max {MAX_EXPOSURE})")
                if float(m.group(1)) > MAX_EXPOSURE:
                    fail(f"{name}: exposure {m.group(1)} > {MAX_EXPOSURE}")

            # Negative controls: verify must notice a broken unit, or the
            # checks above prove nothing.
            with open(unit, encoding="utf-8") as f:
                text = f.read()
            broken = [
                ("an unknown service type", text.replace("Type=notify", "Type=notifyy")),
                ("a missing executable", text.replace(exec_copy, "/nonexistent/roomcast-x")),
                ("an unknown directive", text.replace("[Service]", "[Service]\nProtectSytem=strict")),
            ]
            for what, bad in broken:
                with open(unit, "w", encoding="utf-8") as f:
                    f.write(bad)
                rc, out = verify(unit, env)
                if rc == 0 and not out:
                    fail(f"{name}: verify did not notice {what}")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
