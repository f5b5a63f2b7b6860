#!/usr/bin/env bash
# The unit and integration suites under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/).
# Called by scripts/test.sh after the normal suites; extra arguments go to `meson test`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
build=build-asan
start=$(date +%s)

# b_lundef=false: sanitized shared objects may leave the runtime's symbols to the executable.
# -De2e=false: the browser suite is not run here, so it is not registered either.
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -De2e=false
fi
ninja -C "$build"
built=$(date +%s)

# The Python-driven tests start the build's binaries with their output in per-test logs that
# are deleted on success, and a child stopped with SIGTERM reports its leaks only there; so
# every sanitized process writes its report to a file of its own in $reports, checked below.
run_dir="$(mktemp -d /tmp/roomcast-sanitizers.XXXXXX)"
reports="$run_dir/reports"
mkdir -p "$reports"
supp="$here/tests/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:log_path=$reports/asan"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
# GLib's slice allocator (before 2.76) hides frees from LeakSanitizer; gc-friendly clears
# pointers in freed GLib structures so they do not keep dead blocks reachable.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
# A registry of its own: the plugins (not sanitized, and they need not be) are scanned once.
export GST_REGISTRY="$run_dir/gst-registry.bin"
export ROOMCAST_ARTIFACTS_DIR="${ROOMCAST_ARTIFACTS_DIR:-$here/test-artifacts}/sanitizers"
mkdir -p "$ROOMCAST_ARTIFACTS_DIR"

# The unit suite unless told otherwise (e2e needs browsers). The integration suite is the goal
# (issue #12) but still fails here: on 2026-12-04, 28 of its 39 tests had LeakSanitizer reports
# at exit (roomcast and roomcast-signal after SIGTERM: 38 leak reports, mostly GLib slice
# allocations made inside GStreamer and libsoup, some OpenSSL RAND state) and so exited non-zero;
# no AddressSanitizer or UBSan error was reported. `tests/sanitizers/run.sh --suite
# integration` runs it (14 min on two busy cores).
[ $# -gt 0 ] || set -- --suite unit
status=0
# Sanitized code runs two to three times slower: the timeouts in meson.build get a multiplier.
meson test -C "$build" --print-errorlogs --num-processes 2 --timeout-multiplier 3 \
  "$@" || status=$?

found=$(find "$reports" -type f -size +0 | sort)
if [ -n "$found" ]; then
  echo "sanitizers: reports from sanitized processes:"
  for f in $found; do
    echo "----- $(basename "$f") -----"
    cat "$f"
  done
  status=1
fi
echo "sanitizers: build $((built - start)) s, tests $(( $(date +%s) - built )) s"
[ "$status" -eq 0 ] && rm -rf "$run_dir"
exit "$status"
