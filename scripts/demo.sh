#!/usr/bin/env bash
# The demo on a fresh Debian 12 machine: installs, builds in build/, then records room "demo"
# for about 10 s (room server, gateway, a VP8 and an H264 synthetic participant, all on
# 127.0.0.1 with ICE restricted to 127.0.0.1), stops everything cleanly and summarises the files.
#
# Environment: DEMO_SECONDS (default 10), DEMO_RECORDINGS (default ./demo-recordings),
# DEMO_PIPELINES (default "record-mkv"; e.g. "record-mkv record-mp4"),
# DEMO_BUILD_DIR (default build) and DEMO_NO_BUILD=1 to use an existing build as it is,
# DEMO_PORT (default 8080) for the room server, which also serves the web client.
# Run from a terminal, the demo then keeps the room server and a gateway running and
# prints a URL to join room "demo" from browser windows (DEMO_STAY=0 to skip).
#
# Options: --hls (or DEMO_HLS=1) also publishes the room as HLS (`--pipeline hls`: the
# participants composited into one 1280x720 picture, 2 s segments) and prints where the
# playlist is; play it with e.g. `ffplay <session>/hls/playlist.m3u8`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

seconds="${DEMO_SECONDS:-10}"
recordings="${DEMO_RECORDINGS:-$here/demo-recordings}"
pipelines="${DEMO_PIPELINES:-record-mkv}"
hls="${DEMO_HLS:-0}"
for arg in "$@"; do
  case "$arg" in
    --hls) hls=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option $arg (try --help)" >&2; exit 64 ;;
  esac
done
if [ "$hls" = 1 ]; then pipelines="$pipelines hls"; fi
build="${DEMO_BUILD_DIR:-build}"
room=demo

if [ -z "${DEMO_NO_BUILD:-}" ]; then
  scripts/setup.sh
  if [ -f "$build/build.ninja" ]; then meson setup --reconfigure "$build" >/dev/null; else meson setup "$build"; fi
  ninja -C "$build"
  ( cd web && npm run build --silent )
fi

logs="$(mktemp -d /tmp/roomcast-demo.XXXXXX)"
pids=()
cleanup() {
  # Each process runs in its own process group (setsid): stop the groups.
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

start() { # start NAME CMD... : runs CMD in its own process group, output in $logs/NAME.log
  local name="$1"; shift
  setsid "$@" >"$logs/$name.log" 2>&1 &
  pids+=("$!")
  echo "demo: started $name (pid $!)"
}

wait_for() { # wait_for FILE REGEX SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: timed out waiting for /$2/ in $1" >&2
  tail -20 "$1" >&2
  return 1
}

start signal "$build/signaling/roomcast-signal" --listen "127.0.0.1:${DEMO_PORT:-8080}" --static "$here/web/dist"
wait_for "$logs/signal.log" 'listening on 127\.0\.0\.1:[0-9]+' 10
port="$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$logs/signal.log" | head -1 | sed 's/.*://')"
url="ws://127.0.0.1:$port/ws"
echo "demo: room server on $url; web client at http://127.0.0.1:$port/?room=$room"

mkdir -p "$recordings"
# The control API on a free loopback port (a roomcast service may hold 8081), with a token.
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$logs/api-token"
gateway_args=(--signaling-url "$url" --room "$room" --recordings-dir "$recordings"
              --ice-local-address 127.0.0.1 --pipelines-dir "$here/pipelines" --log-level "${DEMO_LOG_LEVEL:-info}"
              --api-listen 127.0.0.1:0 --api-token-file "$logs/api-token")
for p in $pipelines; do gateway_args+=(--pipeline "$p"); done
start gateway "$build/gateway/roomcast" "${gateway_args[@]}"
gateway_pid="${pids[-1]}"
wait_for "$logs/gateway.log" 'joined as hidden member' 15
api="$(grep -oE 'control API listening on [0-9.:]+' "$logs/gateway.log" | head -1 | sed 's/.* on //')"
echo "demo: control API on http://$api (e.g. curl -H \"Authorization: Bearer \$(cat $logs/api-token)\" http://$api/v1/rooms)"

peer_args=(--signaling-url "$url" --room "$room" --duration "$seconds" --ice-local-address 127.0.0.1)
start alice "$build/testpeer/roomcast-testpeer" "${peer_args[@]}" --name alice --codec vp8 --pattern ball
alice_pid="${pids[-1]}"
start bob "$build/testpeer/roomcast-testpeer" "${peer_args[@]}" --name bob --codec h264 --pattern smpte \
  --width 1280 --height 720
bob_pid="${pids[-1]}"

echo "demo: recording room '$room' for about $seconds s"
wait "$alice_pid" "$bob_pid" || echo "demo: a participant exited with an error (see $logs)" >&2
sleep 1
kill -TERM "$gateway_pid"
if ! wait "$gateway_pid"; then
  echo "demo: the gateway did not exit cleanly; its log:" >&2
  tail -30 "$logs/gateway.log" >&2
  exit 1
fi
session="$(grep -oE 'recording into [^ ]+' "$logs/gateway.log" | head -1 | sed 's/recording into //')"
echo
echo "demo: recordings in $session (logs in $logs)"
for f in "$session"/*; do
  case "$f" in
    *manifest.json) continue ;;
  esac
  [ -f "$f" ] || continue
  ffprobe -v error -print_format json -show_streams -show_format "$f" | python3 -c '
import json, os, sys
info = json.load(sys.stdin)
parts = []
for s in info["streams"]:
    if s["codec_type"] == "video":
        parts.append("%s %sx%s" % (s["codec_name"].upper(), s.get("width"), s.get("height")))
    elif s["codec_type"] == "audio":
        parts.append("%s %s Hz" % (s["codec_name"].capitalize(), s.get("sample_rate")))
fmt = info["format"]
print("  %-12s %s, %.1f s, %.0f kB" % (os.path.basename(sys.argv[1]), " + ".join(parts),
      float(fmt.get("duration", 0)), int(fmt.get("size", 0)) / 1000))
' "$f"
done
echo "  manifest:    $session/manifest.json"
if [ "$hls" = 1 ]; then
  playlist="$session/hls/playlist.m3u8"
  if [ -f "$playlist" ]; then
    echo "  HLS:         $playlist ($(find "$session/hls" -name '*.ts' | wc -l) segment file(s); play: ffplay $playlist)"
  else
    echo "demo: no HLS playlist at $playlist (see $logs/gateway.log)" >&2
  fi
fi

if [ -t 0 ] && [ "${DEMO_STAY:-1}" = 1 ]; then
  start gateway-live "$build/gateway/roomcast" "${gateway_args[@]}"
  wait_for "$logs/gateway-live.log" 'joined as hidden member' 15
  if [ "$hls" = 1 ]; then
    live_session="$(grep -oE 'recording into [^ ]+' "$logs/gateway-live.log" | head -1 | sed 's/recording into //')"
    echo
    echo "demo: the room is also published as HLS: $live_session/hls/playlist.m3u8"
  fi
  echo
  echo "demo: open http://127.0.0.1:$port/?room=$room in two browser windows for a video call;"
  echo "      the gateway is in the room (the ● Recording banner shows) and records into $recordings."
  echo "      Press Ctrl-C to stop."
  wait "${pids[-1]}" || true
fi
