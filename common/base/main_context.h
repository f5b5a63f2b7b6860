// Posting work to the GMainContext that owns roomcast's state (the thread rule).
//
// Callbacks on GStreamer/libnice/libsoup worker threads copy their arguments
// into a lambda, capture only a std::weak_ptr to their owner, and post it here.
#pragma once

#include "common/base/gptr.h"

#include <chrono>
#include <functional>

namespace rc {

// Runs fn once on ctx's thread, always from a fresh idle dispatch (never
// inline, even when called on that thread). Thread-safe.
void post(GMainContext *ctx, std::function<void()> fn, int priority = G_PRIORITY_DEFAULT);

// A timer on ctx; returns the source, destroyed (and so cancelled) with the
// handle. fn returns true to keep repeating.
GPtr<GSource> addTimeout(
    GMainContext *ctx, std::chrono::milliseconds interval, std::function<bool()> fn);

// Calls fn on ctx's thread each time the process receives signum (SIGINT,
// SIGTERM, SIGHUP...), through GLib's self-pipe, so fn may do anything a main
// loop callback may. The watch ends when the returned source is destroyed.
GPtr<GSource> watchUnixSignal(GMainContext *ctx, int signum, std::function<void()> fn);

// Iterates ctx (as the thread-default context) until pred() holds or the
// timeout passes; returns pred(). For tests and bounded shutdown waits on the
// owning thread.
bool iterateUntil(
    GMainContext *ctx, const std::function<bool()> &pred, std::chrono::milliseconds timeout);

} // namespace rc
