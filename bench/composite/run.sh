#!/usr/bin/env bash
# Restream benchmark: the gateway's CPU for a 4-participant 1280x720@30 room
# composite pushed as `rtmp` (x264 veryfast or faster + AAC) to a local nginx,
# and for `rtmp-passthrough` per participant, each against a same-run
# record-mkv baseline with the same peers. See measure.py for the method.
#
# Needs root (unshare -n: everything stays on a private loopback), nginx with
# libnginx-mod-rtmp (scripts/setup.sh) and a build with roomcast,
# roomcast-signal and roomcast-testpeer.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

usage() {
    cat <<USAGE
Usage: $0 [--build DIR] [--out DIR] [measure.py options]
  --build DIR   build folder (default: the first of build, build-* with gateway/roomcast)
  --out DIR     results folder (default: <build>/bench-results/composite-<date>)
measure.py options: --window S (15), --warmup S (5), --passthrough-n N (4),
  --peer-width/--peer-height (640x360), --peer-audio-channels 1|2 (1), --scenarios a,b,...
  (baseline-4,composite-4,composite-4-service,baseline-h264,passthrough; also composite-empty,
  passthrough-stereo, passthrough-rtmpsink, the 9 and 25 grids)
USAGE
}

BUILD="" OUT="" PASS=()
while (($#)); do
    case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) PASS+=("$1"); shift ;;
    esac
done
if [ -z "$BUILD" ]; then
    for d in "$ROOT"/build "$ROOT"/build-*; do
        if [ -x "$d/gateway/roomcast" ] && [ -x "$d/testpeer/roomcast-testpeer" ]; then BUILD=$d; break; fi
    done
fi
for rel in gateway/roomcast signaling/roomcast-signal testpeer/roomcast-testpeer; do
    [ -x "$BUILD/$rel" ] || { echo "missing $BUILD/$rel (build first: meson setup build && ninja -C build)" >&2; exit 69; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root for unshare -n" >&2; exit 77; }

OUT=${OUT:-$BUILD/bench-results/composite-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) core(s)"
    echo "kernel: $(uname -r)"
    echo "gstreamer: $(gst-inspect-1.0 --version | sed -n 's/^GStreamer //p')"
    echo "libx264: $(dpkg-query -W -f '${Version}' 'libx264-*' 2>/dev/null | head -1), libavcodec: $(dpkg-query -W -f '${Version}' 'libavcodec[0-9]*' 2>/dev/null | head -1)"
    echo "build: $BUILD"
} | tee "$OUT/machine.txt"

# Process logs and recordings are copied next to the results.
ROOMCAST_ARTIFACTS_DIR="$OUT" ROOMCAST_KEEP_ARTIFACTS=1 \
    python3 "$HERE/measure.py" "$BUILD" --out "$OUT/results.json" "${PASS[@]}" | tee "$OUT/summary.txt"
echo "results: $OUT"
