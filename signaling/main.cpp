// roomcast-signal: runs the room server until SIGINT/SIGTERM, then closes every connection with
// 1001.
#include "roomcast-config.h"

#include "common/base/exit_codes.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "common/ops/sd_notifier.h"
#include "signaling/room_server.h"
#include "signaling/signal_options.h"

#include <cstdio>
#include <exception>

namespace {

using rc::signaling::SignalCommand;

struct StopFlag
{
    bool requested = false;
};

rc::GPtr<GSource> watchSignal(GMainContext *ctx, int signum, StopFlag &flag)
{
    return rc::watchUnixSignal(ctx, signum, [&flag] { flag.requested = true; });
}

int run(const SignalCommand &cmd)
{
    rc::log::setLevel(cmd.logLevel);
    // Our own context, never the global default (house style); pushed as the
    // thread default because libsoup attaches some sources to that one.
    auto ctx = rc::adopt(g_main_context_new());
    g_main_context_push_thread_default(ctx.get());
    int code = rc::exitcode::ok;
    {
        StopFlag stop;
        auto sigint = watchSignal(ctx.get(), SIGINT, stop);
        auto sigterm = watchSignal(ctx.get(), SIGTERM, stop);
        rc::signaling::RoomServer server(cmd.server, ctx.get());
        rc::SdNotifier notifier; // a no-op unless started by systemd (Type=notify)
        try {
            server.start();
        } catch (const rc::StartupError &e) {
            RC_LOG_ERROR("%s", e.what());
            code = e.exitCode();
        }
        if (code == rc::exitcode::ok) {
            notifier.startWatchdog(ctx.get());
            notifier.ready();
            while (!stop.requested)
                g_main_context_iteration(ctx.get(), TRUE);
            notifier.stopping();
            server.shutdown();
            // Let the closing handshakes finish so that clients read 1001,
            // not a reset; a peer that does not answer gets 3 s.
            rc::iterateUntil(
                ctx.get(), [&] { return server.connectionCount() == 0; }, std::chrono::seconds(3));
            RC_LOG_INFO("stopped");
        }
    }
    g_main_context_pop_thread_default(ctx.get());
    return code;
}

} // namespace

int main(int argc, char **argv)
{
    rc::log::setProgram("roomcast-signal");
    SignalCommand cmd;
    try {
        cmd = rc::signaling::parseSignalOptions(argc, argv);
    } catch (const rc::StartupError &e) {
        std::fprintf(stderr, "roomcast-signal: %s\n", e.what());
        if (e.exitCode() == rc::exitcode::usage)
            std::fprintf(stderr, "Try 'roomcast-signal --help' for the list of options.\n");
        return e.exitCode();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "roomcast-signal: %s\n", e.what());
        return rc::exitcode::software;
    }
    switch (cmd.action) {
    case SignalCommand::Action::help:
        std::fputs(cmd.helpText.c_str(), stdout);
        return rc::exitcode::ok;
    case SignalCommand::Action::version:
        std::printf("roomcast-signal %s\n", ROOMCAST_VERSION);
        return rc::exitcode::ok;
    case SignalCommand::Action::checkConfig:
        std::printf("OK\n");
        return rc::exitcode::ok;
    case SignalCommand::Action::run:
        break;
    }
    try {
        return run(cmd);
    } catch (const rc::StartupError &e) {
        std::fprintf(stderr, "roomcast-signal: %s\n", e.what());
        return e.exitCode();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "roomcast-signal: internal error: %s\n", e.what());
        return rc::exitcode::software;
    }
}
