// A tiny daemon for the sd_notify test: READY and STATUS at start, the watchdog from its loop,
// reload on SIGHUP, stop on SIGTERM.
#include "common/base/gptr.h"
#include "common/base/log.h"
#include "common/ops/sd_notifier.h"

#include <glib-unix.h>

namespace {

struct State
{
    rc::SdNotifier *notifier = nullptr;
    bool stop = false;
    int reloads = 0;
};

gboolean onHup(gpointer data) noexcept
{
    auto *s = static_cast<State *>(data);
    s->notifier->reloading();
    ++s->reloads;
    s->notifier->status("reloaded " + std::to_string(s->reloads) + " time(s)");
    s->notifier->ready();
    return G_SOURCE_CONTINUE;
}

gboolean onTerm(gpointer data) noexcept
{
    static_cast<State *>(data)->stop = true;
    return G_SOURCE_CONTINUE;
}

rc::GPtr<GSource> watch(GMainContext *ctx, int signum, GSourceFunc fn, State &state)
{
    GSource *source = g_unix_signal_source_new(signum);
    g_source_set_callback(source, fn, &state, nullptr);
    g_source_attach(source, ctx);
    return rc::GPtr<GSource>(source);
}

} // namespace

int main()
{
    rc::log::setProgram("sd-notify-probe");
    auto ctx = rc::adopt(g_main_context_new());
    g_main_context_push_thread_default(ctx.get());
    rc::SdNotifier notifier;
    State state;
    state.notifier = &notifier;
    auto hup = watch(ctx.get(), SIGHUP, onHup, state);
    auto term = watch(ctx.get(), SIGTERM, onTerm, state);

    notifier.startWatchdog(ctx.get());
    notifier.ready();
    notifier.status(rc::SdNotifier::countsStatus(0, 0, 0));
    while (!state.stop)
        g_main_context_iteration(ctx.get(), TRUE);
    notifier.stopping();
    notifier.status("stopping");
    notifier.stopWatchdog();
    g_main_context_pop_thread_default(ctx.get());
    return 0;
}
