#!/usr/bin/env bash
# Installs every Debian package roomcast needs to build, test and run its demo,
# plus the web client's npm packages. Idempotent and non-interactive.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  # build
  g++ meson ninja-build pkg-config git clang-format
  # fuzzing (scripts/fuzz.sh): clang 14 with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # GStreamer: core, plugins, WebRTC, codecs, tools
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gstreamer1.0-nice gstreamer1.0-plugins-base-apps libnice-dev
  # libraries
  libsoup-3.0-dev libjson-glib-dev libboost-program-options-dev catch2
  libjwt-dev libsystemd-dev
  # test and demo tools
  ffmpeg nginx libnginx-mod-rtmp chromium iproute2 util-linux procps
  # throwaway certificates for the TLS tests (tests/unit/common/test_tls_files.cpp and others)
  openssl
  # fault tests (tests/faults): outages and loss inside the test's own namespace, a syscall trace
  nftables strace
  # SRT output test (tests/integration/restream/test_srt.py): srt-live-transmit as the receiver
  srt-tools
  # TURN test (tests/e2e/gateway/test_turn.py): coturn, started by the test on loopback only
  coturn
  python3 systemd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages already installed"
fi

# nginx and coturn are test fixtures, started by tests on loopback; the
# distribution's own services must not hold ports 80 and 3478 (coturn's would
# listen on every interface).
for service in nginx coturn; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done

if [ -f "$here/web/package-lock.json" ]; then
  ( cd "$here/web" && npm ci --no-audit --no-fund --loglevel=error )
fi
