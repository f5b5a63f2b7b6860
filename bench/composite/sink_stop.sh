#!/bin/bash
# How long an RTMP sink takes to stop while it is still connecting to a server that never
# answers (its SYNs dropped): rtmp2sink against librtmp's rtmpsink. The gateway stops an output
# from its one main context, so a sink whose stop waits for a connect stalls every room.
# Runs in its own loopback-only network namespace (as root); nothing leaves the machine.
#
# Usage: bench/composite/sink_stop.sh [WAIT_S (20)]
set -euo pipefail
WAIT=${1:-20}
if [ "${SINK_STOP_IN_NETNS:-}" != 1 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "needs root for unshare -n" >&2; exit 77; }
    exec env SINK_STOP_IN_NETNS=1 unshare -n "$0" "$@"
fi
ip link set lo up
nft add table inet t
nft add chain inet t out '{ type filter hook output priority 0; }'
nft add rule inet t out tcp dport 19350 drop
for sink in rtmpsink "rtmp2sink async-connect=false"; do
    gst-launch-1.0 -q videotestsrc is-live=true ! x264enc tune=zerolatency ! flvmux streamable=true \
        ! $sink location=rtmp://127.0.0.1:19350/live/x sync=false async=false >/dev/null 2>&1 &
    pid=$!
    sleep 3 # connecting by now: the first buffer reached the sink
    t0=$(date +%s%N)
    kill -INT $pid # gst-launch sets the pipeline to NULL
    for _ in $(seq 1 $((WAIT * 10))); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    ms=$((($(date +%s%N) - t0) / 1000000))
    if kill -0 $pid 2>/dev/null; then
        echo "${sink%% *}: not stopped ${ms} ms after SIGINT (still connecting)"
        kill -9 $pid
    else
        echo "${sink%% *}: stopped ${ms} ms after SIGINT"
    fi
    wait $pid 2>/dev/null || true
done
