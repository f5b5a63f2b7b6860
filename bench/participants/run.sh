#!/usr/bin/env bash
# Participant load benchmark: the per-participant cost of a receiver (the
# bare webrtcbin baseline, then the real gateway) as N senders join a room.
#
# Inside a loopback-only network namespace (re-executed under unshare -n), it
# starts the room server, then for each N and each receiver: the receiver
# joins hidden, roomcast-bench-senders starts N pre-encoded VP8 + Opus
# participants, and once all N are ICE-connected (plus a settling time) it
# measures the receiver process alone:
#   CPU:  utime+stime from /proc/PID/stat over a fixed window, % of one core;
#   RSS:  VmRSS before the senders joined and at the end of the window;
#   keyframe: ICE connected -> first video keyframe (keyframe_delays.py);
#   threads:  the receiver's thread count at the end of the window, and its CPU per thread class
#             over the window in <tag>.threads.tsv (thread_cpu.py);
#   load:     the 1-minute load average at the end of the window (the machine may be shared).
# With --runs R the whole series runs R times (bare and gateway alternate at each N), and the
# summary quotes medians over the runs and the median of each run's gateway/bare ratio.
# The receiver is pinned to one core and the server and senders to the other,
# so the load generator does not eat the receiver's CPU time.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

find_bin() { # first existing build-*/REL (or build/REL)
    local rel=$1 d
    for d in "$ROOT"/build-peer "$ROOT"/build "$ROOT"/build-*; do
        [ -x "$d/$rel" ] && { echo "$d/$rel"; return; }
    done
    echo ""
}

SIGNAL=${SIGNAL:-$(find_bin signaling/roomcast-signal)}
SENDERS=${SENDERS:-$(find_bin bench/participants/roomcast-bench-senders)}
BARE=${BARE:-$(find_bin bench/participants/roomcast-bench-receiver)}
GATEWAY=${GATEWAY:-$(find_bin gateway/roomcast)}
PIPELINES=${PIPELINES:-$ROOT/pipelines}
# The gateway's template (record-mkv: passthrough) and extra gateway arguments, e.g. the room
# composite: GATEWAY_PIPELINE=hls GATEWAY_ARGS="--param framerate=30"; SENDER_ARGS go to
# roomcast-bench-senders (e.g. "--width 320 --height 180").
GATEWAY_PIPELINE=${GATEWAY_PIPELINE:-record-mkv}
GATEWAY_ARGS=${GATEWAY_ARGS:-}
SENDER_ARGS=${SENDER_ARGS:-}
# An optional second gateway build (e.g. main's, before a change), receiver "baseline", measured
# exactly like "gateway" in the same run: before/after figures under the same machine load.
BASELINE=${BASELINE:-}
BASELINE_PIPELINES=${BASELINE_PIPELINES:-$PIPELINES}
LEVELS="1 5 10 20"
RUNS=1
RECEIVERS="bare gateway"
WINDOW=10
SETTLE=3
PIN=1
OUT=""

usage() {
    cat <<EOF
Usage: $0 [options]
  --levels "N ..."      participant counts (default: "$LEVELS")
  --receivers "R ..."   bare, gateway and/or baseline (default: "$RECEIVERS")
  --window S            CPU measurement window (default: $WINDOW)
  --runs R              repeat the series R times; the summary quotes medians (default: $RUNS)
  --settle S            wait after all are connected (default: $SETTLE)
  --no-pin              do not pin the receiver and the load to separate cores
  --out DIR             results folder (default: <build>/bench-results/participants-<date>)
Binaries (environment): SIGNAL=$SIGNAL
  SENDERS=$SENDERS
  BARE=$BARE
  GATEWAY=$GATEWAY
  PIPELINES=$PIPELINES (the gateway's --pipelines-dir)
  BASELINE=$BASELINE (receiver "baseline": another roomcast build)
  BASELINE_PIPELINES=$BASELINE_PIPELINES
EOF
}

while (($#)); do
    case "$1" in
    --levels) LEVELS=$2; shift 2 ;;
    --receivers) RECEIVERS=$2; shift 2 ;;
    --window) WINDOW=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --no-pin) PIN=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 64 ;;
    esac
done

for b in "$SIGNAL" "$SENDERS" "$BARE"; do
    [ -x "$b" ] || { echo "missing binary: '$b' (build first: meson setup build && ninja -C build)" >&2; exit 69; }
done

# Only loopback, ever: a private network namespace with lo up and nothing else.
if [ -z "${ROOMCAST_BENCH_NETNS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "needs root for unshare -n" >&2; exit 77; }
    ARGS=(--levels "$LEVELS" --receivers "$RECEIVERS" --window "$WINDOW" --settle "$SETTLE" --runs "$RUNS")
    [ "$PIN" = 1 ] || ARGS+=(--no-pin)
    [ -z "$OUT" ] || ARGS+=(--out "$OUT")
    exec env ROOMCAST_BENCH_NETNS=1 SIGNAL="$SIGNAL" SENDERS="$SENDERS" BARE="$BARE" \
        GATEWAY="$GATEWAY" PIPELINES="$PIPELINES" BASELINE="$BASELINE" \
        BASELINE_PIPELINES="$BASELINE_PIPELINES" GATEWAY_PIPELINE="$GATEWAY_PIPELINE" \
        GATEWAY_ARGS="$GATEWAY_ARGS" SENDER_ARGS="$SENDER_ARGS" unshare -n -- "$0" "${ARGS[@]}"
fi
ip link set lo up

OUT=${OUT:-$(dirname "$(dirname "$SENDERS")")/../bench-results/participants-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
RECV_CPU=$((NCPU > 1 ? 1 : 0))
LOAD_CPU=0
# Prefixes, not functions: "$!" must be the program's PID (taskset execs it).
PIN_RECV=() PIN_LOAD=()
if [ "$PIN" = 1 ] && [ "$NCPU" -gt 1 ]; then
    PIN_RECV=(taskset -c "$RECV_CPU")
    PIN_LOAD=(taskset -c "$LOAD_CPU")
fi

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

wait_log() { # wait_log FILE REGEX TIMEOUT_S PID
    local file=$1 re=$2 timeout=$3 pid=$4 i
    for ((i = 0; i < timeout * 10; i++)); do
        grep -Eq "$re" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
stop() { # stop PID TIMEOUT_S
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < $2 * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# The machine, for the record.
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $NCPU core(s)"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel: $(uname -r)"
    echo "gstreamer: $(gst-inspect-1.0 --version | sed -n 's/^GStreamer //p')"
    echo "pinning: $([ "$PIN" = 1 ] && [ "$NCPU" -gt 1 ] && echo "receiver on CPU $RECV_CPU, server and senders on CPU $LOAD_CPU" || echo none)"
    echo "window: ${WINDOW}s after all connected + ${SETTLE}s; runs: $RUNS"
    echo "gateway: $GATEWAY (pipelines: $PIPELINES; --pipeline $GATEWAY_PIPELINE $GATEWAY_ARGS)"
    [ -z "$BASELINE" ] || echo "baseline: $BASELINE (pipelines: $BASELINE_PIPELINES)"
    echo "senders: $SENDERS $SENDER_ARGS"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

"${PIN_LOAD[@]}" "$SIGNAL" --listen 127.0.0.1:0 >"$OUT/signal.log" 2>&1 &
SIGNAL_PID=$!
PIDS+=("$SIGNAL_PID")
wait_log "$OUT/signal.log" 'listening on 127\.0\.0\.1:[0-9]+' 10 "$SIGNAL_PID" || { echo "room server did not start" >&2; exit 69; }
PORT=$(grep -Eo 'listening on 127\.0\.0\.1:[0-9]+' "$OUT/signal.log" | head -1 | sed 's/.*://')
URL="ws://127.0.0.1:$PORT/ws"

RESULTS="$OUT/results.tsv"
printf 'receiver\tN\tcpu_pct\tcpu_pct_per_participant\trss_idle_mb\trss_mb\trss_per_participant_mb\tkeyframes\tkeyframe_median_ms\tkeyframe_max_ms\tsenders_cpu_pct\trun\tthreads\tload1\n' >"$RESULTS"

run_one() { # run_one KIND N RUN
    local kind=$1 n=$2 run=$3 room="bench-$1-$2-$RANDOM" tag="$1-$2-r$3"
    local rlog="$OUT/$tag.receiver.log" slog="$OUT/$tag.senders.log" rpid spid
    case "$kind" in
    bare)
        "${PIN_RECV[@]}" "$BARE" --signaling-url "$URL" --room "$room" --ice-local-address 127.0.0.1 \
            --expect "$n" >"$rlog" 2>&1 &
        rpid=$!; PIDS+=("$rpid")
        wait_log "$rlog" 'joined room' 10 "$rpid" || { echo "$tag: receiver did not join" >&2; return 1; } ;;
    gateway | baseline)
        local bin=$GATEWAY pipelines=$PIPELINES
        [ "$kind" = gateway ] || { bin=$BASELINE; pipelines=$BASELINE_PIPELINES; }
        mkdir -p "$OUT/recordings-$tag"
        "${PIN_RECV[@]}" "$bin" --signaling-url "$URL" --room "$room" --recordings-dir "$OUT/recordings-$tag" \
            --pipelines-dir "$pipelines" --ice-local-address 127.0.0.1 --pipeline "$GATEWAY_PIPELINE" \
            $GATEWAY_ARGS --log-level info >"$rlog" 2>&1 &
        rpid=$!; PIDS+=("$rpid")
        wait_log "$rlog" 'joined as hidden member' 10 "$rpid" || { echo "$tag: gateway did not join" >&2; return 1; } ;;
    esac
    sleep 1
    local rss0; rss0=$(rss_kb "$rpid")
    "${PIN_LOAD[@]}" "$SENDERS" --signaling-url "$URL" --room "$room" --ice-local-address 127.0.0.1 \
        --count "$n" $SENDER_ARGS >"$slog" 2>&1 &
    spid=$!; PIDS+=("$spid")
    if ! wait_log "$slog" "all $n senders connected" 90 "$spid"; then
        echo "$tag: not all $n senders connected" >&2
        stop "$spid" 10; stop "$rpid" 15; return 1
    fi
    sleep "$SETTLE"
    local t0 s0 t1 s1 rss1
    python3 "$HERE/thread_cpu.py" snap "$rpid" >"$OUT/$tag.threads0" 2>/dev/null || true
    t0=$(cpu_ticks "$rpid"); s0=$(cpu_ticks "$spid")
    sleep "$WINDOW"
    t1=$(cpu_ticks "$rpid"); s1=$(cpu_ticks "$spid"); rss1=$(rss_kb "$rpid")
    python3 "$HERE/thread_cpu.py" snap "$rpid" >"$OUT/$tag.threads1" 2>/dev/null || true
    python3 "$HERE/thread_cpu.py" diff "$OUT/$tag.threads0" "$OUT/$tag.threads1" "$WINDOW" "$n" \
        >"$OUT/$tag.threads.tsv" 2>/dev/null || true
    local threads load1
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$rpid/status")
    load1=$(cut -d' ' -f1 /proc/loadavg)
    stop "$spid" 15
    stop "$rpid" 20
    read -r kcount kmed kmax < <(python3 "$HERE/keyframe_delays.py" "${kind/baseline/gateway}" "$rlog")
    awk -v kind="$kind" -v n="$n" -v t="$((t1 - t0))" -v s="$((s1 - s0))" -v hz="$CLK_TCK" \
        -v w="$WINDOW" -v r0="$rss0" -v r1="$rss1" -v kc="$kcount" -v km="$kmed" -v kx="$kmax" \
        -v run="$run" -v th="$threads" -v la="$load1" 'BEGIN {
        cpu = t / hz / w * 100; scpu = s / hz / w * 100
        printf "%s\t%d\t%.2f\t%.3f\t%.1f\t%.1f\t%.2f\t%s\t%s\t%s\t%.1f\t%d\t%d\t%s\n", kind, n, cpu,
            cpu / n, r0 / 1024, r1 / 1024, (r1 - r0) / 1024 / n, kc, km, kx, scpu, run, th, la }' |
        tee -a "$RESULTS"
}

for ((run = 1; run <= RUNS; run++)); do
    for n in $LEVELS; do
        for kind in $RECEIVERS; do
            if [ "$kind" = gateway ] && [ ! -x "$GATEWAY" ]; then
                echo "gateway-$n: no roomcast binary at '$GATEWAY'; skipped" >&2
                continue
            fi
            if [ "$kind" = baseline ] && [ ! -x "$BASELINE" ]; then
                echo "baseline-$n: no BASELINE roomcast binary; skipped" >&2
                continue
            fi
            run_one "$kind" "$n" "$run" || echo "$kind-$n-r$run: failed (logs in $OUT)" >&2
        done
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"

stop "$SIGNAL_PID" 5

# Markdown summary: medians over the runs, and the median of each run's gateway/bare ratio.
python3 "$HERE/summary.py" "$RESULTS" "$OUT/machine.txt" >"$OUT/summary.md"
cat "$OUT/summary.md"
echo "results: $OUT"
