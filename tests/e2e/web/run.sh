#!/usr/bin/env bash
# Runs the web client's browser tests against a room server, inside a
# private network namespace where only loopback is up.
#
#   tests/e2e/web/run.sh SIGNAL_BINARY
#
# Must run as root (unshare -n). Builds web/dist first if it is missing.
# Screenshots and logs go to $ROOMCAST_ARTIFACTS_DIR (default test-artifacts/).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"

if [ $# -ne 1 ]; then
  echo "usage: $0 SIGNAL_BINARY" >&2
  exit 64
fi
if [ ! -f "$1" ] || [ ! -x "$1" ]; then
  echo "e2e-web: room server '$1' is not an executable file" >&2
  exit 64
fi
signal="$(realpath -- "$1")"
if [ "$(id -u)" -ne 0 ]; then
  echo "e2e-web: SKIP: must run as root (it makes a network namespace with unshare -n)" >&2
  exit 77
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "e2e-web: /usr/bin/chromium is missing (apt-get install -y chromium)" >&2
  exit 1
fi

export ROOMCAST_ARTIFACTS_DIR="${ROOMCAST_ARTIFACTS_DIR:-$repo/test-artifacts}"
mkdir -p "$ROOMCAST_ARTIFACTS_DIR"

if [ "${ROOMCAST_E2E_IN_NETNS:-}" != 1 ]; then
  # Outside the namespace: the npm registry is still reachable here.
  if [ ! -d "$repo/web/node_modules/playwright-core" ]; then
    (cd "$repo/web" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ ! -f "$repo/web/dist/index.html" ]; then
    (cd "$repo/web" && npm run build --silent)
  fi
  ROOMCAST_E2E_IN_NETNS=1 exec unshare -n -- bash "$here/run.sh" "$signal"
fi

# Inside the namespace from here on: nothing but loopback exists.
ip link set lo up

port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
log="$ROOMCAST_ARTIFACTS_DIR/e2e-web-signal.log"
"$signal" --listen "127.0.0.1:$port" --static "$repo/web/dist" >"$log" 2>&1 &
server_pid=$!

stop_server() {
  if kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
}
trap stop_server EXIT

ready=0
for _ in $(seq 100); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "e2e-web: room server exited at start; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "e2e-web: room server did not listen on 127.0.0.1:$port within 10 s" >&2
  exit 1
fi
echo "e2e-web: room server $signal on 127.0.0.1:$port"

status=0
# The reconnection test stops this server and starts the same command again.
ROOMCAST_E2E_URL="http://127.0.0.1:$port/" \
ROOMCAST_E2E_SIGNAL="$signal" \
ROOMCAST_E2E_LISTEN="127.0.0.1:$port" \
ROOMCAST_E2E_STATIC="$repo/web/dist" \
ROOMCAST_E2E_SERVER_PID="$server_pid" \
  timeout -k 5 170 node --test --test-reporter=spec "$here"/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e-web: FAILED (status $status); logs in $ROOMCAST_ARTIFACTS_DIR" >&2
fi
exit "$status"
