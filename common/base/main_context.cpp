// Idle/timeout sources with std::function callbacks; see main_context.h.
#include "common/base/main_context.h"

#include <glib-unix.h>

#include <memory>

namespace rc {
namespace {

gboolean runOnce(gpointer data) noexcept
{
    auto *fn = static_cast<std::function<void()> *>(data);
    try {
        (*fn)();
    } catch (...) {
        // Nothing may cross into GLib; a throwing task is a bug, logged by its owner.
    }
    return G_SOURCE_REMOVE;
}

gboolean runRepeating(gpointer data) noexcept
{
    auto *fn = static_cast<std::function<bool()> *>(data);
    try {
        return (*fn)() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    } catch (...) {
        return G_SOURCE_REMOVE;
    }
}

template <typename F> void deleteFn(gpointer data) noexcept
{
    delete static_cast<F *>(data);
}

} // namespace

void post(GMainContext *ctx, std::function<void()> fn, int priority)
{
    GSource *source = g_idle_source_new();
    g_source_set_priority(source, priority);
    g_source_set_callback(
        source, runOnce, new std::function<void()>(std::move(fn)), deleteFn<std::function<void()>>);
    g_source_attach(source, ctx);
    g_source_unref(source); // the context keeps it until it has run
}

GPtr<GSource> addTimeout(
    GMainContext *ctx, std::chrono::milliseconds interval, std::function<bool()> fn)
{
    GSource *source = g_timeout_source_new(static_cast<guint>(interval.count()));
    g_source_set_callback(source, runRepeating, new std::function<bool()>(std::move(fn)),
        deleteFn<std::function<bool()>>);
    g_source_attach(source, ctx);
    return GPtr<GSource>(source); // adopts the creation reference
}

GPtr<GSource> watchUnixSignal(GMainContext *ctx, int signum, std::function<void()> fn)
{
    GSource *source = g_unix_signal_source_new(signum);
    g_source_set_callback(
        source,
        [](gpointer data) noexcept -> gboolean {
            try {
                (*static_cast<std::function<void()> *>(data))();
            } catch (...) {
                // Nothing may cross into GLib.
            }
            return G_SOURCE_CONTINUE;
        },
        new std::function<void()>(std::move(fn)), deleteFn<std::function<void()>>);
    g_source_attach(source, ctx);
    return GPtr<GSource>(source); // adopts the creation reference
}

bool iterateUntil(
    GMainContext *ctx, const std::function<bool()> &pred, std::chrono::milliseconds timeout)
{
    const gint64 deadline = g_get_monotonic_time() + timeout.count() * 1000;
    // libsoup 3 (and other GIO users) dispatch on the thread-default context.
    g_main_context_push_thread_default(ctx);
    bool held = pred();
    while (!held && g_get_monotonic_time() < deadline) {
        // A short timer bounds each blocking iteration so the deadline is honoured.
        auto tick = addTimeout(ctx, std::chrono::milliseconds(20), [] { return false; });
        g_main_context_iteration(ctx, TRUE);
        held = pred();
    }
    g_main_context_pop_thread_default(ctx);
    return held;
}

} // namespace rc
