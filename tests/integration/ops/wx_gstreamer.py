#!/usr/bin/env python3
"""GStreamer under W^X: runs pipelines like the gateway's with the unit's
ORC_CODE setting in a process where the kernel refuses writable+executable
memory (prctl PR_SET_MDWE, Linux >= 6.3, the same rule systemd's
MemoryDenyWriteExecute= enforces with seccomp). Backs the unit's choice of
MemoryDenyWriteExecute=yes with Environment=ORC_CODE=backup,emulate.

test_roomcast_wx.py does the same with roomcast itself.

Usage: wx_gstreamer.py UNIT_FILE. Exit 77 (skip) without gst-launch-1.0 or
PR_SET_MDWE.
"""
import ctypes
import os
import re
import shutil
import subprocess
import sys

PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1

PIPELINES = [
    # Raw audio conversion and Opus, as an audio output would do.
    "audiotestsrc num-buffers=100 ! audio/x-raw,format=S16LE,rate=44100,channels=2 ! "
    "audioconvert ! audioresample ! audio/x-raw,format=F32LE,rate=48000 ! volume volume=0.5 ! "
    "audioconvert ! opusenc ! fakesink",
    # ORC-heavy video conversion and scaling, VP8 and Matroska.
    "videotestsrc num-buffers=20 ! video/x-raw,format=I420,width=320,height=240 ! videoconvert ! "
    "video/x-raw,format=BGRA ! videoscale ! video/x-raw,width=160,height=120 ! videoconvert ! "
    "vp8enc deadline=1 ! matroskamux ! fakesink",
]

libc = ctypes.CDLL(None, use_errno=True)


def enter_wx():
    # Runs in the child before exec; MDWE is inherited across exec and fork.
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        os._exit(77)


PROBE = (
    "import mmap, sys\n"
    "try:\n"
    "    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
    "except OSError:\n"
    "    sys.exit(0)\n"
    "sys.exit(1)\n"
)


def main(unit_file):
    gst = shutil.which("gst-launch-1.0")
    if not gst:
        print("gst-launch-1.0 not found: skipping")
        return 77
    with open(unit_file, encoding="utf-8") as f:
        m = re.search(r"^Environment=ORC_CODE=(\S+)$", f.read(), re.M)
    if not m:
        print(f"{unit_file} sets no ORC_CODE")
        return 1
    orc_code = m.group(1)

    # The control: in a W^X process, an RWX mapping really fails.
    probe = subprocess.run([sys.executable, "-c", PROBE], preexec_fn=enter_wx, timeout=30)
    if probe.returncode == 77:
        print("PR_SET_MDWE unsupported by this kernel: skipping")
        return 77
    if probe.returncode != 0:
        print("W^X is not enforced after PR_SET_MDWE: the test would prove nothing")
        return 1

    env = dict(os.environ, ORC_CODE=orc_code)
    failed = 0
    for pipeline in PIPELINES:
        r = subprocess.run([gst, "-q"] + pipeline.split(), env=env, preexec_fn=enter_wx,
                           capture_output=True, text=True, timeout=120)
        status = "OK" if r.returncode == 0 else f"FAILED (exit {r.returncode})"
        print(f"ORC_CODE={orc_code} under W^X: {pipeline}: {status}")
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
