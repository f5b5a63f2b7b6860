#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang 14) in build-fuzz/ and runs each for SECONDS
# (default 60) on a scratch copy of its seed corpus; fails if any target crashes, leaks or hangs.
# Installs nothing: scripts/setup.sh provides clang and its runtime.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
seconds="${1:-60}"

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ is missing; run scripts/setup.sh" >&2
  exit 1
fi

targets=(fuzz_room_protocol fuzz_token_verifier fuzz_pipeline_template fuzz_sdp_tuning
  fuzz_control_api fuzz_config_loader fuzz_message_inflater fuzz_ws_frame)

# Only the fuzz targets are built here (they compile the sources they need),
# so the rest of the project never has to build under clang.
# An existing build-fuzz/ regenerates itself when a meson.build changes.
if [ ! -f build-fuzz/build.ninja ]; then
  CXX=clang++ CC=clang meson setup build-fuzz -Dfuzzing=true -Dgateway=false -Dtests=false \
    -De2e=false >/dev/null
fi
ninja -C build-fuzz "${targets[@]/#/tests/fuzz/}"

work="$(mktemp -d /tmp/roomcast-fuzz.XXXXXX)"
trap 'rm -rf "$work"' EXIT
artifacts="${ROOMCAST_ARTIFACTS_DIR:-$here/test-artifacts}/fuzz"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus" "$work/$t/crashes"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/corpus/"
  echo "fuzz: $t for ${seconds}s"
  # -timeout: one input taking over 10 s is a hang; stdin closed so a config
  # naming /dev/stdin cannot block. Leak checking is on (libFuzzer's default).
  if build-fuzz/tests/fuzz/"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/$t/crashes/" "$work/$t/corpus" \
      </dev/null >"$work/$t/log" 2>&1; then
    # One line per target: executions, executions/s, coverage and corpus at the end, peak RSS.
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$work/$t/log")
    last=$(grep -E '#[0-9]+.*(cov|ft):' "$work/$t/log" | tail -n 1)
    cov=$(sed -n 's/.* cov: *\([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: *\([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: *\([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
    echo "fuzz: $t ${seconds}s runs=${runs:-?} exec/s=$(( ${runs:-0} / seconds )) cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?} peak_rss_mb=${rss:-?} findings=0"
  else
    failed+=("$t")
    tail -n 60 "$work/$t/log" >&2
    mkdir -p "$artifacts"
    cp "$work/$t/log" "$artifacts/$t.log"
    cp "$work/$t/crashes/"* "$artifacts/" 2>/dev/null || true
    echo "fuzz: $t FAILED; reproducer and log in $artifacts" >&2
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a finding"
