// roomcast-bench-signal: load client measuring a room server's forwarding rate and latency.
//
// Prints one JSON object per run on stdout (run.sh collects them) and a
// human-readable summary on stderr.
#include "common/base/config_loader.h"
#include "common/base/exit_codes.h"
#include "common/base/json.h"
#include "common/base/log.h"
#include "common/base/startup_error.h"
#include "load_run.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

namespace po = boost::program_options;
using rc::bench::LoadMode;
using rc::bench::LoadOptions;
using rc::bench::LoadResult;

namespace {

struct Command
{
    LoadOptions load;
    bool help = false;
};

Command parseOptions(int argc, char **argv, po::options_description &desc)
{
    Command cmd;
    LoadOptions &o = cmd.load;
    std::string mode = "open";
    std::string logLevel = "info";
    // clang-format off
    desc.add_options()
        ("help,h", "show this help")
        ("url", po::value(&o.url)->required(), "room server WebSocket URL, ws://127.0.0.1:PORT/ws")
        ("connections,n", po::value(&o.connections)->default_value(o.connections),
            "sending connections (1 adds a receive-only member)")
        ("room-size", po::value(&o.roomSize)->default_value(o.roomSize), "members per room")
        ("mode", po::value(&mode)->default_value(mode),
            "open: fixed offered rate; closed: fixed number of messages in flight")
        ("rate", po::value(&o.rate)->default_value(o.rate), "open: messages/s offered in total")
        ("window", po::value(&o.window)->default_value(o.window),
            "closed: messages in flight in total (at least one per sender)")
        ("warmup", po::value(&o.warmupS)->default_value(o.warmupS), "seconds of load before the window")
        ("duration", po::value(&o.durationS)->default_value(o.durationS), "measurement window, seconds")
        ("drain", po::value(&o.drainS)->default_value(o.drainS),
            "seconds to wait for the window's last messages")
        ("setup-timeout", po::value(&o.setupTimeoutS)->default_value(o.setupTimeoutS),
            "seconds allowed to connect and join every member")
        ("connect-concurrency", po::value(&o.connectConcurrency)->default_value(o.connectConcurrency),
            "WebSocket handshakes in flight at once, over all threads")
        ("threads", po::value(&o.threads)->default_value(o.threads),
            "client threads, each with its own GMainContext and whole rooms")
        ("server-pid", po::value(&o.serverPid)->default_value(0),
            "report this process's CPU use over the window")
        ("deflate", po::bool_switch(&o.deflate), "offer permessage-deflate (as browsers do)")
        ("soup-client", po::bool_switch(&o.soupClient),
            "connect with libsoup's WebSocket client (the first version's; it costs about as much "
            "per message as the server) instead of the raw one")
        ("callgrind", po::bool_switch(&o.callgrind),
            "the server runs under valgrind --tool=callgrind: zero its counters at the window's "
            "start and dump them at its end (callgrind_control)")
        ("room-prefix", po::value(&o.roomPrefix)->default_value(o.roomPrefix), "room name prefix")
        ("log-level", po::value(&logLevel)->default_value(logLevel), "debug, info, warning, error");
    // clang-format on
    auto parsed = rc::config::parseCommandLine(argc, argv, desc);
    po::variables_map vm;
    try {
        po::store(parsed, vm);
        if (vm.count("help")) {
            cmd.help = true;
            return cmd;
        }
        po::notify(vm);
    } catch (const po::error &e) {
        throw rc::StartupError(rc::exitcode::usage, std::string("command line: ") + e.what());
    }

    rc::log::Level level;
    if (!rc::log::parseLevel(logLevel, level))
        throw rc::StartupError(rc::exitcode::usage, "unknown log level '" + logLevel + "'");
    rc::log::setLevel(level);
    if (mode == "open")
        o.mode = LoadMode::open;
    else if (mode == "closed")
        o.mode = LoadMode::closed;
    else
        throw rc::StartupError(rc::exitcode::usage, "--mode must be open or closed");
    if (o.connections == 0 || o.roomSize < 2 || o.rate <= 0 || o.window == 0 || o.durationS <= 0
        || o.warmupS < 0 || o.drainS < 0 || o.connectConcurrency == 0 || o.threads == 0)
        throw rc::StartupError(rc::exitcode::usage,
            "connections, window, rate, duration, threads and "
            "connect-concurrency must be positive, room-size at least 2");

    // The benchmark only ever talks to a server on this machine's loopback.
    GError *raw = nullptr;
    auto uri = rc::adopt(g_uri_parse(o.url.c_str(), G_URI_FLAGS_NONE, &raw));
    auto error = rc::adopt(raw);
    if (!uri || g_strcmp0(g_uri_get_scheme(uri.get()), "ws") != 0
        || g_strcmp0(g_uri_get_host(uri.get()), "127.0.0.1") != 0)
        throw rc::StartupError(rc::exitcode::usage, "--url must be ws://127.0.0.1:PORT/ws");
    return cmd;
}

std::string toJson(const LoadResult &r)
{
    const auto &c = r.counters;
    rc::json::ObjectBuilder errors;
    for (const auto &[code, count] : c.otherErrors)
        errors.set(code.c_str(), static_cast<int64_t>(count));
    auto i64 = [](uint64_t v) { return static_cast<int64_t>(v); };
    const bool open = r.options.mode == LoadMode::open;
    return rc::json::ObjectBuilder()
        .set("connections", i64(r.options.connections))
        .set("members", i64(r.layout.memberCount()))
        .set("senders", i64(r.layout.senders))
        .set("rooms", i64(r.layout.rooms))
        .set("threads", i64(r.layout.shards))
        .set("mode", rc::bench::loadModeName(r.options.mode))
        .set("offered_rate", open ? r.options.rate : 0.0)
        .set("window",
            i64(open ? 0 : std::max(1u, r.options.window / r.layout.senders) * r.layout.senders))
        .set("window_s", r.windowS)
        .set("sent", i64(c.sentInWindow))
        .set("received", i64(c.receivedInWindow))
        .set("delivered", i64(c.deliveredOfWindow))
        .set("lost", i64(r.lost))
        .set("pacer_skipped", i64(c.pacerSkipped))
        .set("send_rate", r.sendRate)
        .set("forward_rate", r.forwardRate)
        .set("samples", i64(r.latency.count))
        .set("p50_us", r.latency.p50Us)
        .set("p90_us", r.latency.p90Us)
        .set("p99_us", r.latency.p99Us)
        .set("p999_us", r.latency.p999Us)
        .set("max_us", r.latency.maxUs)
        .set("rate_limited", i64(c.rateLimited))
        .set("other_errors", errors.build())
        .set("unexpected_closes", i64(c.unexpectedCloses))
        .set("client_cpu", r.clientCpu)
        .set("server_cpu", r.serverCpu)
        .set("client_runq_wait", r.clientRunQueueWait)
        .set("server_runq_wait", r.serverRunQueueWait)
        .set("server_rss_kib", static_cast<int64_t>(r.serverRssKiB))
        .set("server_peak_rss_kib", static_cast<int64_t>(r.serverPeakRssKiB))
        .toString();
}

// Every member is a socket: raise the soft open-file limit to the hard one (10,000 idle
// members need more than the usual 1024; the server raises its own for --max-connections).
void raiseOpenFileLimit()
{
    struct rlimit lim
    {
    };
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

int runBench(const LoadOptions &options)
{
    raiseOpenFileLimit();
    rc::bench::LoadRun run(options);
    auto outcome = run.run();
    if (auto *error = std::get_if<std::string>(&outcome)) {
        RC_LOG_ERROR("%s", error->c_str());
        return rc::exitcode::unavailable;
    }
    const auto &r = std::get<LoadResult>(outcome);
    RC_LOG_INFO(
        "n=%u %s: forwarded %.0f msg/s (sent %.0f/s), p50 %.1f us, p99 %.1f us, "
        "p99.9 %.1f us, max %.1f us, lost %llu, skipped %llu, rate-limited %llu, "
        "client cpu %.0f%% (run-queue wait %.0f%%), server cpu %.0f%% (run-queue wait %.0f%%), "
        "server rss %ld KiB",
        r.options.connections, rc::bench::loadModeName(r.options.mode), r.forwardRate, r.sendRate,
        r.latency.p50Us, r.latency.p99Us, r.latency.p999Us, r.latency.maxUs,
        static_cast<unsigned long long>(r.lost),
        static_cast<unsigned long long>(r.counters.pacerSkipped),
        static_cast<unsigned long long>(r.counters.rateLimited), r.clientCpu * 100,
        r.clientRunQueueWait * 100, r.serverCpu * 100, r.serverRunQueueWait * 100, r.serverRssKiB);
    std::cout << toJson(r) << std::endl;
    return rc::exitcode::ok;
}

} // namespace

int main(int argc, char **argv)
{
    rc::log::setProgram("bench-signal");
    po::options_description desc("roomcast-bench-signal options");
    Command cmd;
    try {
        cmd = parseOptions(argc, argv, desc);
    } catch (const rc::StartupError &e) {
        std::fprintf(stderr, "roomcast-bench-signal: %s\n", e.what());
        return e.exitCode();
    }
    if (cmd.help) {
        std::cout << "Usage: roomcast-bench-signal --url ws://127.0.0.1:PORT/ws [options]\n"
                  << desc << std::endl;
        return rc::exitcode::ok;
    }
    try {
        return runBench(cmd.load);
    } catch (const std::exception &e) {
        RC_LOG_ERROR("%s", e.what());
        return rc::exitcode::software;
    }
}
