#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs, builds, then runs the
# room server on 127.0.0.1:8080 (later: gateway and synthetic participants).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

scripts/setup.sh
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build; fi
ninja -C build

exec build/signaling/roomcast-signal --listen 127.0.0.1:8080
