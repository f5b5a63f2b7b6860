#!/usr/bin/env python3
"""roomcast-signal under a fake systemd: READY=1 once listening, periodic
WATCHDOG=1 from its main loop, STOPPING=1 on SIGTERM, in that order."""
import os, signal, socket, subprocess, sys, tempfile, time

binary = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    env["WATCHDOG_PID"] = str(proc.pid)
    messages = []

    def drain(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                messages.extend(sock.recv(4096).decode().split("\n"))
            except socket.timeout:
                pass

    try:
        drain(1.5)
        proc.send_signal(signal.SIGTERM)
        drain(1.0)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    states = [m for m in messages if m]
    print("received:", states)
    assert code == 0, f"exit code {code}"
    assert "READY=1" in states, "no READY=1"
    ready = states.index("READY=1")
    watchdogs = [i for i, m in enumerate(states) if m == "WATCHDOG=1"]
    # Half of 400 ms: several pings within 1.5 s, and at least one after READY.
    assert len(watchdogs) >= 3, f"only {len(watchdogs)} WATCHDOG=1"
    assert "STOPPING=1" in states, "no STOPPING=1"
    assert states.index("STOPPING=1") > ready, "STOPPING=1 before READY=1"
    print("1 passed, 0 failed")
