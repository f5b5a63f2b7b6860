#!/bin/bash
# The Opus -> AAC transcode of rtmp-passthrough, alone: CPU seconds for 60 s of audio coded mono
# and declared stereo (as browsers send it), encoded to stereo AAC (before the audio-channels
# capsfilter) and to mono AAC (after), for a pure tone (the bench peers' audio) and pink noise
# (nearer a voice for the encoder). Runs interleaved, so each pair shares the machine's state.
#
# Usage: bench/composite/audio_transcode.sh [RUNS (3)]
set -euo pipefail
RUNS=${1:-3}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
for wave in sine pink-noise; do
    gst-launch-1.0 -q audiotestsrc num-buffers=3000 samplesperbuffer=960 wave=$wave volume=0.3 \
        ! audio/x-raw,channels=1,rate=48000 ! opusenc bitrate=64000 ! oggmux \
        ! filesink location="$DIR/$wave.ogg"
done
cpu() { # wave channels -> CPU seconds (user + system)
    local t
    t=$( { /usr/bin/time -f '%U %S' gst-launch-1.0 -q filesrc location="$DIR/$1.ogg" ! oggdemux \
        ! opusparse ! capssetter join=false caps=audio/x-opus,channel-mapping-family=0,channels=2,rate=48000 \
        ! opusparse ! opusdec plc=true ! audioconvert ! audioresample \
        ! audio/x-raw,rate=48000,channels="$2" ! voaacenc bitrate=128000 ! aacparse ! fakesink ; } 2>&1 | tail -1)
    awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.2f", a[1] + a[2] }'
}
echo "| audio | run | stereo AAC s | mono AAC s | stereo % of a core | mono % of a core | saved % |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for wave in sine pink-noise; do
    for run in $(seq 1 "$RUNS"); do
        s=$(cpu $wave 2)
        m=$(cpu $wave 1)
        awk -v w=$wave -v r=$run -v s=$s -v m=$m 'BEGIN {
            printf "| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n", w, r, s, m, s/60*100, m/60*100, (s-m)/60*100 }'
    done
done
