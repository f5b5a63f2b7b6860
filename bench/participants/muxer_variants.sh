#!/usr/bin/env bash
# Where record-mkv's cost over the bare receiver goes (#13 goal 1): the real gateway run as the
# participant bench's "baseline" receiver with a pipelines folder whose record-mkv is changed,
# against the shipped record-mkv ("gateway") and the bare webrtcbin receiver, in the same runs.
# The variants are benchmark-only templates, never shipped:
#   qtmux   one GstAggregator muxer thread per participant (qtmux, fragmented, to a file)
#           instead of matroskamux's collect pads
#   split   one single-stream matroskamux per track (into fakesinks): no waiting between the
#           audio and the video thread
#   mux     matroskamux into a fakesink (no file)
#   nomux   the entry queues into fakesinks (no muxer, no file)
#
# Usage: bench/participants/muxer_variants.sh [--variants "qtmux split"] [--levels "20"]
#            [--runs 5] [--window 15] [--out DIR]
# As root (run.sh enters a loopback-only network namespace); a build in build/ or build-*.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VARIANTS="qtmux split"
LEVELS=20
RUNS=5
WINDOW=15
OUT=""
while (($#)); do
    case "$1" in
    --variants) VARIANTS=$2; shift 2 ;;
    --levels) LEVELS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --window) WINDOW=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done
GATEWAY=${GATEWAY:-}
if [ -z "$GATEWAY" ]; then
    for d in "$ROOT"/build "$ROOT"/build-*; do
        [ -x "$d/gateway/roomcast" ] && { GATEWAY=$d/gateway/roomcast; break; }
    done
fi
[ -x "$GATEWAY" ] || { echo "no gateway/roomcast in build/ or build-* (build first)" >&2; exit 69; }
OUT=${OUT:-$(dirname "$(dirname "$GATEWAY")")/bench-results/muxer-variants-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

Q='max-size-buffers=0 max-size-bytes=0 max-size-time=2000000000'
CLUSTERS='writing-app=roomcast offset-to-zero=true min-cluster-duration=250000000 max-cluster-duration=500000000'
SINK='fakesink sync=false async=false'
entries() { # the two entry queues, into $1 (video) and $2 (audio)
    printf 'queue name=video %s ! %s\nqueue name=audio %s ! %s\n' "$Q" "$1" "$Q" "$2"
}
body() { # the variant's record-mkv, after its header
    case "$1" in
    qtmux)
        printf 'extension: mov\n---\n'
        entries mux.video_0 mux.audio_0
        echo "qtmux name=mux fragment-duration=500 ! filesink name=file sync=false async=false" ;;
    split)
        echo ---
        entries vmux.video_0 amux.audio_0
        echo "matroskamux name=vmux $CLUSTERS ! $SINK"
        echo "matroskamux name=amux $CLUSTERS ! $SINK" ;;
    mux)
        echo ---
        entries mux.video_0 mux.audio_0
        echo "matroskamux name=mux $CLUSTERS ! $SINK" ;;
    nomux)
        echo ---
        entries "$SINK" "$SINK" ;;
    *) echo "unknown variant '$1' (qtmux, split, mux, nomux)" >&2; exit 64 ;;
    esac
}

for v in $VARIANTS; do
    dir=$OUT/pipelines-$v
    mkdir -p "$dir"
    cp "$ROOT"/pipelines/*.pipeline "$dir"/
    {
        echo "# record-mkv, benchmark variant '$v' (bench/participants/muxer_variants.sh): not shipped"
        echo "scope: participant"
        echo "description: record-mkv variant $v"
        echo "video-codecs: VP8, VP9, H264, AV1"
        echo "audio-codecs: OPUS"
        body "$v"
    } >"$dir/record-mkv.pipeline"
    echo "== variant $v: $dir/record-mkv.pipeline"
    BASELINE=$GATEWAY BASELINE_PIPELINES=$dir GATEWAY=$GATEWAY \
        "$HERE/run.sh" --levels "$LEVELS" --receivers "bare gateway baseline" --runs "$RUNS" \
        --window "$WINDOW" --out "$OUT/$v" | sed -n '/^| N /,$p'
done
echo "results: $OUT (per variant: results.tsv, *.threads.tsv; 'baseline' is the variant)"
