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

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <exception>

namespace {

using rc::signaling::SignalCommand;

struct StopFlag
{
    bool requested = false;
};

// Each connection is a file descriptor: make sure max-connections of them, plus HTTP
// connections that have not upgraded yet and the server's own files, fit under the open-file
// limit, so the cap answers 503 before accept() fails with EMFILE. GLib polls, it never uses
// select(), so a soft limit past 1024 is safe; the hard limit is the administrator's.
void fitOpenFileLimit(size_t maxConnections)
{
    if (maxConnections == 0)
        return;
    const rlim_t wanted = static_cast<rlim_t>(maxConnections) + 256;
    struct rlimit lim
    {
    };
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= wanted)
        return;
    const rlim_t before = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, lim.rlim_max);
    if (lim.rlim_cur > before && setrlimit(RLIMIT_NOFILE, &lim) == 0)
        RC_LOG_INFO("open file limit raised from %llu to %llu for max-connections %zu",
            static_cast<unsigned long long>(before), static_cast<unsigned long long>(lim.rlim_cur),
            maxConnections);
    else
        lim.rlim_cur = before;
    if (lim.rlim_cur < wanted)
        RC_LOG_WARN("the open file limit (%llu) is below max-connections %zu + 256: connections "
                    "may fail before the cap answers 503",
            static_cast<unsigned long long>(lim.rlim_cur), maxConnections);
}

rc::GPtr<GSource> watchSignal(GMainContext *ctx, int signum, StopFlag &flag)
{
    return rc::watchUnixSignal(ctx, signum, [&flag] { flag.requested = true; });
}

int run(const SignalCommand &cmd)
{
    rc::log::setLevel(cmd.logLevel);
    fitOpenFileLimit(cmd.server.maxConnections);
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
        // SIGHUP: certificate renewal without dropping anyone.
        auto sighup = rc::watchUnixSignal(ctx.get(), SIGHUP, [&server] { server.reloadTls(); });
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
