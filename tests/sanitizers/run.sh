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
# fast_unwind_on_malloc=0: Debian's libraries have no frame pointers, so the fast unwinder
# stops at the first GLib frame and no leak could be told apart or suppressed; it costs about
# twice the CPU of a process start. intercept_tls_get_addr=0: LeakSanitizer (GCC 12) mistakes
# glibc 2.36's dynamic TLS blocks for the 2.19 layout and crashes scanning a bogus range
# ("Tracer caught signal 11", google/sanitizers#1322) in processes with TLS connections;
# without it the blocks are still found, through the thread's static TLS. log_exe_name: the
# report file names its program.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:intercept_tls_get_addr=0:log_exe_name=1:log_path=$reports/asan"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
# GLib's slice allocator (before 2.76) hides frees from LeakSanitizer; gc-friendly clears
# pointers in freed GLib structures so they do not keep dead blocks reachable.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
# A registry of its own: the plugins (not sanitized, and they need not be) are scanned once,
# here, before any test: a sanitized process scanning them takes ~12 s of a test's start-up.
export GST_REGISTRY="$run_dir/gst-registry.bin"
gst-inspect-1.0 coreelements >/dev/null
export ROOMCAST_ARTIFACTS_DIR="${ROOMCAST_ARTIFACTS_DIR:-$here/test-artifacts}/sanitizers"
mkdir -p "$ROOMCAST_ARTIFACTS_DIR"

# The unit and the integration suites, unless told otherwise (extra arguments are given to one
# `meson test` instead). Not faults (they test recovery from outages against real timing, and
# their C++ is the integration tests'), not e2e (the browsers are not ours), and not the one
# throughput test (suite 'load': signal-ws-load sends 40,000 messages, which a sanitized server
# takes minutes to forward, so its clients time out; its paths are the other signal tests').
# Sanitized code runs two to three times slower, so the timeouts in meson.build and the tests'
# real-time allowances (a gap in a recording, how soon a participant is offered to, how many WHEP
# viewers; gwtest.allowance) grow by one factor; the normal suites keep their own.
slack=3
export ROOMCAST_TIMING_SLACK=$slack
status=0
run_tests() {
  meson test -C "$build" --print-errorlogs --num-processes 2 --timeout-multiplier "$slack" "$@" \
    || status=$?
}
if [ $# -gt 0 ]; then
  run_tests "$@"
else
  run_tests --suite unit
  run_tests --suite integration --no-suite load
fi

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
