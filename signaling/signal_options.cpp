// Option parsing and validation for roomcast-signal; see signal_options.h.
#include "signaling/signal_options.h"

#include "common/ops/tls_files.h"

#include "roomcast-config.h"

#include "common/base/config_loader.h"
#include "common/base/exit_codes.h"
#include "common/base/soup_ptr.h"
#include "common/base/startup_error.h"

#include <gio/gio.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace rc::signaling {
namespace {

namespace po = boost::program_options;

// Says who set an option, so that a bad value blames the command line (64)
// or the file and line it came from (78).
class Blame
{
public:
    Blame(const po::parsed_options &commandLine,
        const std::vector<std::vector<config::Entry>> &layers)
        : commandLine_(commandLine)
        , layers_(layers)
    { }

    [[noreturn]] void fail(const std::string &key, const std::string &problem) const
    {
        for (const auto &opt : commandLine_.options)
            if (opt.string_key == key)
                throw StartupError(
                    exitcode::usage, "command line: option '--" + key + "': " + problem);
        for (auto layer = layers_.rbegin(); layer != layers_.rend(); ++layer)
            for (auto e = layer->rbegin(); e != layer->rend(); ++e)
                if (e->key == key)
                    throw StartupError(exitcode::config,
                        e->file + ":" + std::to_string(e->line) + ": option '" + key
                            + "': " + problem);
        throw StartupError(exitcode::usage, "option '--" + key + "': " + problem);
    }

    // Where a value came from, for messages about files it names.
    int exitCode(const std::string &key) const
    {
        for (const auto &opt : commandLine_.options)
            if (opt.string_key == key)
                return exitcode::usage;
        return exitcode::config;
    }

private:
    const po::parsed_options &commandLine_;
    const std::vector<std::vector<config::Entry>> &layers_;
};

// A strictly positive (or non-negative) integer, refusing signs and junk that
// Boost's lexical_cast would wrap around for unsigned types.
bool parseCount(const std::string &text, long min, long max, long &out)
{
    if (text.empty() || text.size() > 9
        || text.find_first_not_of("0123456789") != std::string::npos)
        return false;
    out = std::stol(text);
    return out >= min && out <= max;
}

po::options_description sharedOptions()
{
    po::options_description d("Server options (command line or config file)");
    d.add_options()("listen", po::value<std::string>()->default_value("127.0.0.1:8080"),
        "HOST:PORT to listen on; [IPV6]:PORT for IPv6; port 0 picks a free port")("secret-file",
        po::value<std::string>(),
        "file holding the HS256 secret for join tokens (trailing whitespace removed); "
        "without it every join is accepted (development mode)")("max-peers-per-room",
        po::value<std::string>()->default_value("64"),
        "most visible members in one room, 0 for no limit (hidden members do not count)")("static",
        po::value<std::string>(),
        "directory of a web client to serve on /")("tls-certificate", po::value<std::string>(),
        "PEM certificate (chain) file: serve HTTPS and WSS only; reloaded on SIGHUP")("tls-key",
        po::value<std::string>(), "PEM private key file for --tls-certificate")("log-level",
        po::value<std::string>()->default_value("info"), "debug, info, warning or error")(
        "rate-limit-burst", po::value<std::string>()->default_value("400"),
        "messages a connection may send at once before it is rate-limited")("rate-limit-per-second",
        po::value<std::string>()->default_value("100"),
        "messages per second a connection may send in the long run")("ping-interval",
        po::value<std::string>()->default_value("10"), "seconds between WebSocket pings")(
        "peer-timeout", po::value<std::string>()->default_value("30"),
        "seconds without any data (pongs included) after which a peer is gone")("join-timeout",
        po::value<std::string>()->default_value("10"),
        "seconds a WebSocket may stay without a valid join (then join-timeout, 4408), and a "
        "connection without a complete HTTP request (then dropped)")("max-queued-bytes",
        po::value<std::string>()->default_value("1048576"),
        "most bytes of messages queued for one connection that does not read (then too-slow, "
        "1013)")("max-connections", po::value<std::string>()->default_value("1000"),
        "most WebSocket connections at once, 0 for no cap; upgrades past it get HTTP 503");
    return d;
}

std::string trimRight(std::string s)
{
    while (!s.empty() && std::string_view(" \t\r\n\v\f").find(s.back()) != std::string_view::npos)
        s.pop_back();
    return s;
}

} // namespace

std::string readSecretFile(const std::string &path, int code, const std::string &where)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw StartupError(code, where + "cannot read secret file '" + path + "'");
    std::ostringstream content;
    content << in.rdbuf();
    std::string secret = trimRight(content.str());
    if (secret.empty())
        throw StartupError(code, where + "secret file '" + path + "' is empty");
    return secret;
}

SignalCommand parseSignalOptions(int argc, const char *const argv[])
{
    po::options_description general("General options");
    general.add_options()("help,h", "print this help and exit")(
        "version,V", "print the version and exit")("config,c", po::value<std::string>(),
        "INI config file; FILE.d/*.conf drop-ins are read after it; the command line wins")(
        "check-config", "validate the options and config file, print OK and exit");
    const po::options_description shared = sharedOptions();
    po::options_description cli;
    cli.add(general).add(shared);

    SignalCommand cmd;
    const po::parsed_options commandLine = config::parseCommandLine(argc, argv, cli);

    // Boost keeps stray words as positional options unless told otherwise.
    for (const auto &opt : commandLine.options)
        if (opt.position_key >= 0 || opt.string_key.empty())
            throw StartupError(exitcode::usage,
                "command line: unexpected argument '"
                    + (opt.original_tokens.empty() ? std::string() : opt.original_tokens.front())
                    + "' (options start with --)");

    po::variables_map early;
    try {
        po::store(commandLine, early);
    } catch (const po::error &e) {
        throw StartupError(exitcode::usage, std::string("command line: ") + e.what());
    }
    std::ostringstream help;
    help << "Usage: roomcast-signal [OPTIONS]\n"
            "The roomcast room server: WebSocket signaling on /ws "
            "(shared/specs/room-protocol.md).\n\n"
         << cli;
    cmd.helpText = help.str();
    if (early.count("help")) {
        cmd.action = SignalCommand::Action::help;
        return cmd;
    }
    if (early.count("version")) {
        cmd.action = SignalCommand::Action::version;
        return cmd;
    }

    std::vector<std::vector<config::Entry>> layers;
    if (early.count("config")) {
        cmd.configFile = early["config"].as<std::string>();
        layers.push_back(config::readIniFile(cmd.configFile));
        for (const auto &dropIn : config::dropInFiles(cmd.configFile + ".d"))
            layers.push_back(config::readIniFile(dropIn));
    }
    po::variables_map vm;
    config::storeLayered(vm, commandLine, shared, layers);
    try {
        po::notify(vm);
    } catch (const po::error &e) {
        throw StartupError(exitcode::usage, std::string("command line: ") + e.what());
    }
    const Blame blame(commandLine, layers);
    auto text = [&](const char *key) { return vm[key].as<std::string>(); };

    RoomServerConfig &server = cmd.server;
    if (!parseListenAddress(text("listen"), server.host, server.port))
        blame.fail(
            "listen", "'" + text("listen") + "' is not HOST:PORT (an IP address, or [IPv6]:PORT)");

    if (!log::parseLevel(text("log-level"), cmd.logLevel))
        blame.fail(
            "log-level", "'" + text("log-level") + "' is not one of debug, info, warning, error");

    long n = 0;
    if (!parseCount(text("max-peers-per-room"), 0, 100000, n))
        blame.fail("max-peers-per-room",
            "'" + text("max-peers-per-room") + "' is not a number from 0 to 100000");
    server.rules.maxPeersPerRoom = static_cast<unsigned>(n);
    if (!parseCount(text("rate-limit-burst"), 1, 1000000, n))
        blame.fail("rate-limit-burst",
            "'" + text("rate-limit-burst") + "' is not a number from 1 to 1000000");
    server.rules.rateLimit.burst = static_cast<double>(n);
    if (!parseCount(text("rate-limit-per-second"), 1, 1000000, n))
        blame.fail("rate-limit-per-second",
            "'" + text("rate-limit-per-second") + "' is not a number from 1 to 1000000");
    server.rules.rateLimit.perSecond = static_cast<double>(n);
    if (!parseCount(text("ping-interval"), 1, 3600, n))
        blame.fail("ping-interval",
            "'" + text("ping-interval") + "' is not a number of seconds from 1 to 3600");
    server.pingInterval = std::chrono::seconds(n);
    if (!parseCount(text("peer-timeout"), 1, 86400, n))
        blame.fail("peer-timeout",
            "'" + text("peer-timeout") + "' is not a number of seconds from 1 to 86400");
    server.peerTimeout = std::chrono::seconds(n);
    if (server.peerTimeout <= server.pingInterval)
        blame.fail("peer-timeout",
            "must be longer than ping-interval (" + std::to_string(server.pingInterval.count())
                + " s)");

    if (!parseCount(text("join-timeout"), 1, 3600, n))
        blame.fail("join-timeout",
            "'" + text("join-timeout") + "' is not a number of seconds from 1 to 3600");
    server.joinTimeout = std::chrono::seconds(n);
    if (!parseCount(text("max-queued-bytes"), static_cast<long>(kMinQueuedBytes), 268435456, n))
        blame.fail("max-queued-bytes",
            "'" + text("max-queued-bytes") + "' is not a number of bytes from "
                + std::to_string(kMinQueuedBytes) + " to 268435456");
    server.maxQueuedBytes = static_cast<uint64_t>(n);
    if (!parseCount(text("max-connections"), 0, 1000000, n))
        blame.fail("max-connections",
            "'" + text("max-connections") + "' is not a number from 0 to 1000000");
    server.maxConnections = static_cast<size_t>(n);

    if (vm.count("static")) {
        server.staticDir = text("static");
        std::error_code ec;
        if (server.staticDir.empty() || !std::filesystem::is_directory(server.staticDir, ec))
            blame.fail("static", "'" + server.staticDir + "' is not a directory");
    }
    if (vm.count("tls-certificate") != vm.count("tls-key"))
        blame.fail(vm.count("tls-certificate") ? "tls-certificate" : "tls-key",
            "--tls-certificate and --tls-key go together");
    if (vm.count("tls-certificate")) {
        server.tlsCertificateFile = text("tls-certificate");
        server.tlsKeyFile = text("tls-key");
        // Loaded now too, so that --check-config and the start fail on a bad file.
        std::string error;
        if (!ops::loadTlsCertificate(server.tlsCertificateFile, server.tlsKeyFile, error))
            blame.fail("tls-certificate", error);
    }
    if (vm.count("secret-file")) {
        const std::string path = text("secret-file");
        try {
            server.rules.secret = readSecretFile(path, blame.exitCode("secret-file"), "");
        } catch (const StartupError &e) {
            blame.fail("secret-file", e.what());
        }
    }

    if (early.count("check-config"))
        cmd.action = SignalCommand::Action::checkConfig;
    return cmd;
}

} // namespace rc::signaling
