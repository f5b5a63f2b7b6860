// roomcast's command line and config layering, with every bad value traced to its file:line; see
// gateway_options.h.
#include "gateway/app/gateway_options.h"

#include "common/base/config_loader.h"
#include "common/base/exit_codes.h"
#include "common/base/gptr.h"
#include "common/base/listen_address.h"
#include "common/base/log.h"
#include "common/base/startup_error.h"
#include "common/ops/tls_files.h"
#include "gateway/ops/cors_policy.h"
#include "roomcast-config.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace rc::gateway {
namespace {

namespace po = boost::program_options;

constexpr const char *defaultPipeline = "record-mkv";
constexpr const char *defaultSignalingUrl = "ws://127.0.0.1:8080/ws";

// Where each option's winning value came from, so that a bad value is
// reported as the command line's (64) or a file line's (78).
class Origins
{
public:
    Origins(const po::parsed_options &cli, const std::vector<std::vector<config::Entry>> &layers)
    {
        for (const auto &opt : cli.options)
            cli_.insert(opt.string_key);
        for (const auto &layer : layers) {
            std::map<std::string, std::vector<const config::Entry *>> here;
            for (const auto &e : layer)
                here[e.key].push_back(&e);
            for (auto &[key, entries] : here)
                files_[key] = entries; // a later layer owns the key
        }
    }

    [[noreturn]] void fail(const std::string &key, size_t index, const std::string &message) const
    {
        if (cli_.count(key) || !files_.count(key))
            throw StartupError(exitcode::usage, "--" + key + ": " + message);
        const auto &entries = files_.at(key);
        const config::Entry *e = entries[std::min(index, entries.size() - 1)];
        throw StartupError(exitcode::config,
            e->file + ":" + std::to_string(e->line) + ": " + key + ": " + message);
    }

private:
    std::set<std::string> cli_;
    std::map<std::string, std::vector<const config::Entry *>> files_;
};

po::options_description fileOptions()
{
    po::options_description d("Options (also valid as 'key = value' in the config file)");
    auto add = d.add_options();
    add("signaling-url", po::value<std::string>(),
        "room server WebSocket URL, ws:// or wss:// (default ws://127.0.0.1:8080/ws)");
    add("signaling-ca-file", po::value<std::string>(),
        "PEM file of the CAs to trust for a wss:// signaling URL instead of the system's");
    add("token-file", po::value<std::string>(),
        "file holding the join token (JWT); trailing whitespace is removed");
    add("room", po::value<std::vector<std::string>>(),
        "room to record; repeatable (optional: the control API can join rooms; SIGHUP joins added "
        "ones and leaves removed ones)");
    add("pipeline", po::value<std::vector<std::string>>(),
        "pipeline template to run per participant; repeatable (default record-mkv)");
    add("pipelines-dir", po::value<std::vector<std::string>>(),
        "folder searched for NAME.pipeline before the built-in ones; repeatable");
    add("recordings-dir", po::value<std::string>(),
        "where recordings go (default $STATE_DIRECTORY, else ./recordings)");
    add("ice-local-address", po::value<std::vector<std::string>>(),
        "only gather ICE candidates on this IP address; repeatable");
    add("stun-server", po::value<std::string>(), "stun://host:port");
    add("turn-server", po::value<std::string>(), "turn://user:pass@host:port or turns://...");
    add("ice-transport-policy", po::value<std::string>(),
        "all (default) or relay: only relayed candidates (through --turn-server)");
    add("video-min-bitrate", po::value<int>(), "kbit/s hint in the offer (default 300)");
    add("video-start-bitrate", po::value<int>(), "kbit/s hint in the offer (default 1500)");
    add("video-max-bitrate", po::value<int>(), "kbit/s hint in the offer (default 4000)");
    add("finalize-timeout", po::value<int>(),
        "ms to wait for a file to finalize after EOS (default 5000)");
    add("resume-window", po::value<int>(),
        "seconds: a restart continues a room's unfinished session (same folder and manifest, new "
        "parts) when it was last written this recently; 0 never continues (default 600)");
    add("participant-grace", po::value<int>(),
        "s a participant may stay without media and connection before it ends (default 600)");
    add("log-level", po::value<std::string>(), "debug, info, warning or error (default info)");
    add("param", po::value<std::vector<std::string>>(),
        "NAME=VALUE for every active template declaring parameter NAME; repeatable");
    add("rtmp-url", po::value<std::string>(),
        "the RTMP URL of the rtmp templates (same as --param rtmp_url=URL)");
    add("api-listen", po::value<std::string>(),
        "control API address HOST:PORT, or 'none' (default 127.0.0.1:8081)");
    add("api-token-file", po::value<std::string>(),
        "file holding the control API's bearer token (required unless the API listens on "
        "loopback)");
    add("whep-token-secret-file", po::value<std::string>(),
        "file holding the HS256 key of viewer tokens (JWT: room, exp) for /whep; without it "
        "only the API token opens the live view");
    add("api-tls-certificate", po::value<std::string>(),
        "PEM certificate (chain) file: the control API speaks HTTPS only; reloaded on SIGHUP");
    add("api-tls-key", po::value<std::string>(), "PEM private key file for api-tls-certificate");
    add("cors-origin", po::value<std::vector<std::string>>(),
        "browser origin scheme://host[:port] allowed to call the control API (CORS), or * for "
        "any; repeatable (default: none)");
    add("webhook-url", po::value<std::vector<std::string>>(),
        "http(s) URL that receives event webhooks; repeatable");
    add("webhook-secret-file", po::value<std::string>(),
        "file holding the HMAC-SHA256 key that signs webhooks (required with webhook-url)");
    add("webhook-queue", po::value<int>(),
        "events queued per webhook receiver before new ones are dropped (default 1000)");
    return d;
}

po::options_description commandLineOnly()
{
    po::options_description d("Command line only");
    d.add_options()("help,h", "print this help and exit")("version", "print the version and exit")(
        "config", po::value<std::string>(),
        "config file (default " ROOMCAST_SYSCONFDIR "/roomcast.conf if present)")(
        "check-config", "validate options and pipeline templates, then exit");
    return d;
}

std::string trimRight(std::string s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    return s;
}

std::string firstStateDirectory()
{
    const char *state = std::getenv("STATE_DIRECTORY");
    if (!state || !*state)
        return "./recordings";
    // systemd separates several StateDirectory= entries with ':'.
    std::string s(state);
    return s.substr(0, s.find(':'));
}

// Parses a URL and checks scheme, host, port and the absence of what the
// caller forbids. why says what is wrong.
bool checkUri(const std::string &url, const std::set<std::string> &schemes, bool needUser,
    bool allowPath, std::string &why)
{
    GError *raw = nullptr;
    GPtr<GUri> uri = adopt(g_uri_parse(url.c_str(), G_URI_FLAGS_HAS_PASSWORD, &raw));
    GPtr<GError> err = adopt(raw);
    if (!uri) {
        why = "not a URL (" + std::string(err ? err->message : "parse error") + ")";
        return false;
    }
    std::string scheme = g_uri_get_scheme(uri.get()) ? g_uri_get_scheme(uri.get()) : "";
    if (!schemes.count(scheme)) {
        std::string list;
        for (const auto &s : schemes)
            list += (list.empty() ? "" : " or ") + s + "://";
        why = "scheme must be " + list + ", got '" + scheme + "'";
        return false;
    }
    const char *host = g_uri_get_host(uri.get());
    if (!host || !*host) {
        why = "no host";
        return false;
    }
    const char *user = g_uri_get_user(uri.get());
    const char *password = g_uri_get_password(uri.get());
    if (needUser && (!user || !*user || !password || !*password)) {
        why = "needs user:password@ before the host";
        return false;
    }
    if (!needUser && (user || password)) {
        why = "must not carry credentials";
        return false;
    }
    const char *path = g_uri_get_path(uri.get());
    if (!allowPath && path && *path && std::string(path) != "/") {
        why = "must not have a path";
        return false;
    }
    if (g_uri_get_fragment(uri.get())) {
        why = "must not have a #fragment";
        return false;
    }
    return true;
}

} // namespace

bool isValidRoomName(const std::string &room) noexcept
{
    if (room.empty() || room.size() > 64)
        return false;
    for (char c : room) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
                || c == '-'))
            return false;
    }
    return true;
}

bool isValidIpAddress(const std::string &address) noexcept
{
    unsigned char buf[16];
    return inet_pton(AF_INET, address.c_str(), buf) == 1
        || inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

bool isValidSignalingUrl(const std::string &url, std::string &why)
{
    return checkUri(url, { "ws", "wss" }, false, true, why);
}

bool isValidStunUrl(const std::string &url, std::string &why)
{
    return checkUri(url, { "stun" }, false, false, why);
}

bool isValidTurnUrl(const std::string &url, std::string &why)
{
    return checkUri(url, { "turn", "turns" }, true, false, why);
}

bool isValidWebhookUrl(const std::string &url, std::string &why)
{
    return checkUri(url, { "http", "https" }, false, true, why);
}

std::string defaultConfigFile()
{
    return ROOMCAST_SYSCONFDIR "/roomcast.conf";
}

std::string dropInDirFor(const std::string &configFile)
{
    return configFile + ".d";
}

std::vector<std::string> defaultPipelinesDirs()
{
    std::vector<std::string> dirs;
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    std::string root = ROOMCAST_SOURCE_ROOT;
    if (!ec && exe.rfind(root + "/", 0) == 0)
        dirs.push_back(root + "/pipelines");
    dirs.push_back(ROOMCAST_DATADIR "/pipelines");
    return dirs;
}

bool readTokenFile(const std::string &path, std::string &token, std::string &error)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot read the token file";
        return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string content = trimRight(ss.str());
    if (content.empty()) {
        error = path + ": the token file is empty";
        return false;
    }
    if (content.size() > 16384 || content.find_first_of("\r\n") != std::string::npos) {
        error = path + ": the token file must hold one token on one line";
        return false;
    }
    token = std::move(content);
    return true;
}

std::optional<GatewayOptions> parseGatewayOptions(int argc, const char *const argv[])
{
    po::options_description fileDesc = fileOptions();
    po::options_description cliDesc("Usage: roomcast [OPTION]...\nJoins WebRTC rooms as a hidden "
                                    "peer and records every participant.");
    cliDesc.add(commandLineOnly()).add(fileDesc);

    po::parsed_options cli = config::parseCommandLine(argc, argv, cliDesc);
    std::set<std::string> given;
    std::string configFile;
    for (const auto &opt : cli.options) {
        given.insert(opt.string_key);
        if (opt.string_key == "config" && !opt.value.empty())
            configFile = opt.value.back();
    }
    if (given.count("help")) {
        std::cout << cliDesc
                  << "\nConfig drop-ins: <config>.d/*.conf, read in lexical order after the config "
                     "file;\n"
                     "later files override earlier ones and the command line overrides them all.\n";
        return std::nullopt;
    }
    if (given.count("version")) {
        std::cout << "roomcast " ROOMCAST_VERSION "\n";
        return std::nullopt;
    }

    GatewayOptions o;
    for (int i = 0; i < argc; ++i)
        o.argv.emplace_back(argv[i]);
    if (!given.count("config")) {
        std::error_code ec;
        if (std::filesystem::exists(defaultConfigFile(), ec))
            configFile = defaultConfigFile();
    } else if (configFile.empty()) {
        throw StartupError(exitcode::usage, "--config: empty file name");
    }
    std::vector<std::vector<config::Entry>> layers;
    if (!configFile.empty()) {
        layers.push_back(config::readIniFile(configFile));
        o.configFiles.push_back(configFile);
        for (const auto &dropIn : config::dropInFiles(dropInDirFor(configFile))) {
            layers.push_back(config::readIniFile(dropIn));
            o.configFiles.push_back(dropIn);
        }
    }
    o.configFile = configFile;

    po::variables_map vm;
    config::storeLayered(vm, cli, fileDesc, layers);
    Origins origins(cli, layers);

    auto str = [&](const char *key, std::string &out) {
        if (vm.count(key))
            out = vm[key].as<std::string>();
    };
    auto list = [&](const char *key) {
        return vm.count(key) ? vm[key].as<std::vector<std::string>>() : std::vector<std::string> {};
    };
    auto integer = [&](const char *key, int &out, int lo, int hi) {
        if (!vm.count(key))
            return;
        out = vm[key].as<int>();
        if (out < lo || out > hi)
            origins.fail(
                key, 0, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    };

    o.checkConfig = given.count("check-config") > 0;
    o.signalingUrl = defaultSignalingUrl;
    str("signaling-url", o.signalingUrl);
    std::string why;
    if (!isValidSignalingUrl(o.signalingUrl, why))
        origins.fail("signaling-url", 0, why);

    str("signaling-ca-file", o.signalingCaFile);
    if (vm.count("signaling-ca-file")) {
        GError *raw = nullptr;
        auto db = adopt(g_tls_file_database_new(o.signalingCaFile.c_str(), &raw));
        auto error = adopt(raw);
        if (!db)
            origins.fail("signaling-ca-file", 0,
                "cannot load CA file '" + o.signalingCaFile
                    + "': " + (error ? error->message : "unknown error"));
    }

    str("token-file", o.tokenFile);
    if (vm.count("token-file") && o.tokenFile.empty())
        origins.fail("token-file", 0, "empty file name");

    o.rooms = list("room");
    std::set<std::string> seen;
    for (size_t i = 0; i < o.rooms.size(); ++i) {
        if (!isValidRoomName(o.rooms[i]))
            origins.fail("room", i,
                "'" + o.rooms[i] + "' is not a room name (1 to 64 characters of [A-Za-z0-9_-])");
        if (!seen.insert(o.rooms[i]).second)
            origins.fail("room", i, "room '" + o.rooms[i] + "' given twice");
    }

    o.pipelines = list("pipeline");
    if (o.pipelines.empty())
        o.pipelines = { defaultPipeline };
    seen.clear();
    for (size_t i = 0; i < o.pipelines.size(); ++i) {
        const auto &p = o.pipelines[i];
        bool ok = !p.empty() && p.size() <= 64 && p[0] != '.'
            && p.find_first_not_of(
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
                == std::string::npos;
        if (!ok)
            origins.fail("pipeline", i,
                "'" + p + "' is not a template name (1 to 64 characters of [A-Za-z0-9._-])");
        if (!seen.insert(p).second)
            origins.fail("pipeline", i, "pipeline '" + p + "' given twice");
    }

    auto dirs = list("pipelines-dir");
    for (size_t i = 0; i < dirs.size(); ++i) {
        if (dirs[i].empty())
            origins.fail("pipelines-dir", i, "empty folder name");
    }
    for (const auto &d : defaultPipelinesDirs()) {
        if (std::find(dirs.begin(), dirs.end(), d) == dirs.end())
            dirs.push_back(d);
    }
    o.pipelinesDirs = dirs;

    o.recordingsDir = firstStateDirectory();
    str("recordings-dir", o.recordingsDir);
    if (o.recordingsDir.empty())
        origins.fail("recordings-dir", 0, "empty folder name");

    o.iceLocalAddresses = list("ice-local-address");
    for (size_t i = 0; i < o.iceLocalAddresses.size(); ++i) {
        if (!isValidIpAddress(o.iceLocalAddresses[i]))
            origins.fail("ice-local-address", i,
                "'" + o.iceLocalAddresses[i] + "' is not an IPv4 or IPv6 address");
    }

    str("stun-server", o.stunServer);
    if (!o.stunServer.empty() && !isValidStunUrl(o.stunServer, why))
        origins.fail("stun-server", 0, why);
    str("turn-server", o.turnServer);
    if (!o.turnServer.empty() && !isValidTurnUrl(o.turnServer, why))
        origins.fail("turn-server", 0, why);
    std::string policy = "all";
    str("ice-transport-policy", policy);
    if (policy != "all" && policy != "relay")
        origins.fail("ice-transport-policy", 0, "must be 'all' or 'relay', got '" + policy + "'");
    o.relayOnly = policy == "relay";
    if (o.relayOnly && o.turnServer.empty())
        origins.fail("ice-transport-policy", 0, "'relay' needs a --turn-server");

    integer("video-min-bitrate", o.videoMinBitrateKbps, 30, 100000);
    integer("video-start-bitrate", o.videoStartBitrateKbps, 30, 100000);
    integer("video-max-bitrate", o.videoMaxBitrateKbps, 30, 100000);
    if (o.videoMinBitrateKbps > o.videoStartBitrateKbps
        || o.videoStartBitrateKbps > o.videoMaxBitrateKbps) {
        const char *key = vm.count("video-start-bitrate") ? "video-start-bitrate"
            : vm.count("video-min-bitrate")               ? "video-min-bitrate"
                                                          : "video-max-bitrate";
        origins.fail(key, 0,
            "video bitrates must satisfy min <= start <= max (got "
                + std::to_string(o.videoMinBitrateKbps) + " / "
                + std::to_string(o.videoStartBitrateKbps) + " / "
                + std::to_string(o.videoMaxBitrateKbps) + ")");
    }

    int finalizeMs = static_cast<int>(o.finalizeTimeout.count());
    integer("finalize-timeout", finalizeMs, 100, 600000);
    o.finalizeTimeout = std::chrono::milliseconds(finalizeMs);
    int resumeSeconds = static_cast<int>(o.resumeWindow.count());
    integer("resume-window", resumeSeconds, 0, 7 * 24 * 3600);
    o.resumeWindow = std::chrono::seconds(resumeSeconds);
    int graceS = static_cast<int>(o.participantGrace.count());
    integer("participant-grace", graceS, 1, 86400);
    o.participantGrace = std::chrono::seconds(graceS);

    auto params = list("param");
    for (size_t i = 0; i < params.size(); ++i) {
        auto eq = params[i].find('=');
        std::string name = eq == std::string::npos ? std::string() : params[i].substr(0, eq);
        bool nameOk = !name.empty() && name.size() <= 32
            && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-")
                == std::string::npos;
        if (!nameOk)
            origins.fail("param", i,
                "expected NAME=VALUE with NAME of [a-z0-9_-], got '" + params[i].substr(0, 40)
                    + "'");
        if (!o.templateParams.emplace(name, params[i].substr(eq + 1)).second)
            origins.fail("param", i, "parameter '" + name + "' given twice");
    }
    if (vm.count("rtmp-url")) {
        if (o.templateParams.count("rtmp_url"))
            origins.fail("rtmp-url", 0, "both --rtmp-url and --param rtmp_url given");
        o.templateParams["rtmp_url"] = vm["rtmp-url"].as<std::string>();
    }

    if (vm.count("api-listen")) {
        const std::string listen = vm["api-listen"].as<std::string>();
        if (listen == "none") {
            o.apiEnabled = false;
        } else if (!parseListenAddress(listen, o.apiHost, o.apiPort)) {
            origins.fail("api-listen", 0,
                "'" + listen + "' is not HOST:PORT (an IP address or localhost), or none");
        }
    }
    str("api-token-file", o.apiTokenFile);
    if (vm.count("api-token-file") && o.apiTokenFile.empty())
        origins.fail("api-token-file", 0, "empty file name");
    str("whep-token-secret-file", o.whepTokenSecretFile);
    if (vm.count("whep-token-secret-file") && o.whepTokenSecretFile.empty())
        origins.fail("whep-token-secret-file", 0, "empty file name");
    str("api-tls-certificate", o.apiTlsCertificate);
    str("api-tls-key", o.apiTlsKey);
    if (vm.count("api-tls-certificate") != vm.count("api-tls-key"))
        origins.fail(vm.count("api-tls-certificate") ? "api-tls-certificate" : "api-tls-key", 0,
            "api-tls-certificate and api-tls-key go together");
    if (vm.count("api-tls-certificate")) {
        // Loaded now too, so that --check-config and the start fail on a bad file.
        std::string error;
        if (!ops::loadTlsCertificate(o.apiTlsCertificate, o.apiTlsKey, error))
            origins.fail("api-tls-certificate", 0, error);
    }
    if (o.apiEnabled && o.apiTokenFile.empty() && !isLoopbackHost(o.apiHost)) {
        // A policy refusal, not a syntax error: 78 wherever the address came
        // from (with file:line when a file gave it).
        const std::string message = "the control API would listen on " + o.apiHost
            + ", which is not a loopback address, without api-token-file";
        if (!given.count("api-listen"))
            origins.fail("api-listen", 0, message);
        throw StartupError(exitcode::config, "--api-listen: " + message);
    }
    o.corsOrigins = list("cors-origin");
    for (size_t i = 0; i < o.corsOrigins.size(); ++i) {
        if (!ops::CorsPolicy::isValidOrigin(o.corsOrigins[i], why))
            origins.fail("cors-origin", i, why);
    }
    o.webhookUrls = list("webhook-url");
    for (size_t i = 0; i < o.webhookUrls.size(); ++i) {
        if (!isValidWebhookUrl(o.webhookUrls[i], why))
            origins.fail("webhook-url", i, why);
    }
    str("webhook-secret-file", o.webhookSecretFile);
    if (vm.count("webhook-secret-file") && o.webhookSecretFile.empty())
        origins.fail("webhook-secret-file", 0, "empty file name");
    if (!o.webhookUrls.empty() && o.webhookSecretFile.empty())
        origins.fail(
            "webhook-url", 0, "webhooks need webhook-secret-file (the key that signs them)");
    integer("webhook-queue", o.webhookQueue, 1, 1000000);

    str("log-level", o.logLevel);
    log::Level level;
    if (!log::parseLevel(o.logLevel, level))
        origins.fail(
            "log-level", 0, "'" + o.logLevel + "' is not one of debug, info, warning, error");
    return o;
}

void validateGatewayOptions(const GatewayOptions &options)
{
    if (!options.tokenFile.empty()) {
        std::string token, error;
        if (!readTokenFile(options.tokenFile, token, error))
            throw StartupError(exitcode::config, error);
    }
    std::string secret, error;
    if (!options.apiTokenFile.empty() && !readTokenFile(options.apiTokenFile, secret, error))
        throw StartupError(exitcode::config, "api-token-file: " + error);
    if (!options.webhookSecretFile.empty()
        && !readTokenFile(options.webhookSecretFile, secret, error))
        throw StartupError(exitcode::config, "webhook-secret-file: " + error);
    std::error_code ec;
    if (std::filesystem::exists(options.recordingsDir, ec)
        && !std::filesystem::is_directory(options.recordingsDir, ec))
        throw StartupError(
            exitcode::config, options.recordingsDir + ": recordings-dir is not a folder");
}

} // namespace rc::gateway
