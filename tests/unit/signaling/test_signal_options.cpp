// roomcast-signal's options: defaults, command line over file, exit codes and file:line in errors.
#include "signaling/signal_options.h"

#include "common/base/startup_error.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace rc::signaling;

namespace {

SignalCommand parse(std::vector<std::string> args)
{
    args.insert(args.begin(), "roomcast-signal");
    std::vector<const char *> argv;
    for (auto &a : args)
        argv.push_back(a.c_str());
    return parseSignalOptions(static_cast<int>(argv.size()), argv.data());
}

int failure(std::vector<std::string> args, std::string *message = nullptr)
{
    try {
        parse(std::move(args));
    } catch (const rc::StartupError &e) {
        if (message)
            *message = e.what();
        return e.exitCode();
    }
    return 0;
}

struct TempFile
{
    std::string path;
    explicit TempFile(const std::string &content, const std::string &name = "signal.conf")
    {
        char tmpl[] = "/tmp/roomcast-opts-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        path = std::string(tmpl) + "/" + name;
        std::ofstream(path) << content;
    }
    ~TempFile() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }
};

} // namespace

TEST_CASE("defaults satisfy the spec")
{
    auto cmd = parse({});
    CHECK(cmd.action == SignalCommand::Action::run);
    CHECK(cmd.server.host == "127.0.0.1");
    CHECK(cmd.server.port == 8080);
    CHECK_FALSE(cmd.server.rules.secret);
    CHECK(cmd.server.rules.rateLimit.burst >= 200);
    CHECK(cmd.server.rules.rateLimit.perSecond >= 50);
    CHECK(cmd.server.peerTimeout == std::chrono::seconds(30));
    CHECK(cmd.server.pingInterval < cmd.server.peerTimeout);
    CHECK(cmd.server.staticDir.empty());
}

TEST_CASE("listen addresses")
{
    std::string host;
    uint16_t port = 1;
    CHECK(parseListenAddress("127.0.0.1:0", host, port));
    CHECK(host == "127.0.0.1");
    CHECK(port == 0);
    CHECK(parseListenAddress("[::1]:9000", host, port));
    CHECK(host == "::1");
    CHECK(port == 9000);
    CHECK(parseListenAddress("0.0.0.0:65535", host, port));
    CHECK(parseListenAddress("localhost:80", host, port));
    for (const char *bad :
        { "", ":80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o",
            "::1:80", "[::1]80", "[127.0.0.1]:80", "example.com:80", "[::1]:", "1.2.3:80" }) {
        INFO(bad);
        CHECK_FALSE(parseListenAddress(bad, host, port));
    }
}

TEST_CASE("help, version, check-config")
{
    CHECK(parse({ "--help" }).action == SignalCommand::Action::help);
    CHECK(parse({ "-h" }).helpText.find("--max-peers-per-room") != std::string::npos);
    CHECK(parse({ "--version" }).action == SignalCommand::Action::version);
    CHECK(parse({ "--check-config" }).action == SignalCommand::Action::checkConfig);
}

TEST_CASE("command-line errors are 64 and name the option")
{
    std::string msg;
    CHECK(failure({ "--frobnicate" }, &msg) == 64);
    CHECK(msg.find("--frobnicate") != std::string::npos);
    CHECK(failure({ "--listen", "nope" }, &msg) == 64);
    CHECK(msg.find("--listen") != std::string::npos);
    CHECK(failure({ "--rate-limit-burst", "0" }, &msg) == 64);
    CHECK(msg.find("--rate-limit-burst") != std::string::npos);
    CHECK(failure({ "--max-peers-per-room", "4294967297" }) == 64);
    CHECK(failure({ "extra" }) == 64);
    CHECK(failure({ "--static", "/definitely/not/here" }, &msg) == 64);
    CHECK(msg.find("--static") != std::string::npos);
}

TEST_CASE("config file values, command line winning; errors are 78 with file:line")
{
    TempFile conf("# comment\n; other comment\n\nlisten = [::1]:0\nmax-peers-per-room = 3\n"
                  "rate-limit-burst = 250\nlog-level = debug\n");
    auto cmd = parse({ "--config", conf.path });
    CHECK(cmd.configFile == conf.path);
    CHECK(cmd.server.host == "::1");
    CHECK(cmd.server.rules.maxPeersPerRoom == 3);
    CHECK(cmd.server.rules.rateLimit.burst == 250);
    CHECK(cmd.logLevel == rc::log::Level::debug);
    cmd = parse({ "--config", conf.path, "--max-peers-per-room", "9", "--listen", "127.0.0.1:1" });
    CHECK(cmd.server.rules.maxPeersPerRoom == 9);
    CHECK(cmd.server.port == 1);

    TempFile bad("listen = 127.0.0.1:0\n\nmax-peers-per-room = -1\n");
    std::string msg;
    CHECK(failure({ "--config", bad.path }, &msg) == 78);
    CHECK(msg.find(bad.path + ":3") != std::string::npos);
    // The same bad value is harmless when the command line replaces it.
    CHECK(failure({ "--config", bad.path, "--max-peers-per-room", "2" }) == 0);

    TempFile unknown("listen = 127.0.0.1:0\nconfig = other.conf\n");
    CHECK(failure({ "--config", unknown.path }, &msg) == 78);
    CHECK(msg.find(unknown.path + ":2") != std::string::npos);
}

TEST_CASE("the secret file: trailing whitespace removed, empty refused")
{
    TempFile secret("  s3cret with spaces \r\n\t \n", "secret");
    auto cmd = parse({ "--secret-file", secret.path });
    REQUIRE(cmd.server.rules.secret);
    CHECK(*cmd.server.rules.secret == "  s3cret with spaces");
    TempFile empty(" \n\n", "secret");
    std::string msg;
    CHECK(failure({ "--secret-file", empty.path }, &msg) == 64);
    CHECK(msg.find("empty") != std::string::npos);
    TempFile conf("secret-file = " + empty.path + "\n");
    CHECK(failure({ "--config", conf.path }, &msg) == 78);
    CHECK(msg.find(conf.path + ":1") != std::string::npos);
}

TEST_CASE("resource limits: the spec's defaults, from a file or the command line, validated")
{
    auto cmd = parse({});
    CHECK(cmd.server.joinTimeout == std::chrono::seconds(10));
    CHECK(cmd.server.maxQueuedBytes == 1048576);
    CHECK(cmd.server.maxConnections == 1000);

    TempFile conf("join-timeout = 3\nmax-queued-bytes = 200000\nmax-connections = 0\n");
    cmd = parse({ "--config", conf.path });
    CHECK(cmd.server.joinTimeout == std::chrono::seconds(3));
    CHECK(cmd.server.maxQueuedBytes == 200000);
    CHECK(cmd.server.maxConnections == 0);
    cmd = parse({ "--config", conf.path, "--join-timeout", "5", "--max-connections", "7" });
    CHECK(cmd.server.joinTimeout == std::chrono::seconds(5));
    CHECK(cmd.server.maxConnections == 7);

    std::string msg;
    for (const std::vector<std::string> &bad : std::vector<std::vector<std::string>> {
             { "--join-timeout", "0" },
             { "--join-timeout", "1.5" },
             { "--join-timeout", "3601" },
             { "--max-queued-bytes", "65536" }, // below the largest forwarded message
             { "--max-queued-bytes", "lots" },
             { "--max-connections", "-1" },
         }) {
        INFO(bad[0] << " " << bad[1]);
        CHECK(failure(bad, &msg) == 64);
        CHECK(msg.find(bad[0]) != std::string::npos);
    }
    TempFile badFile("listen = 127.0.0.1:0\nmax-queued-bytes = 10\n");
    CHECK(failure({ "--config", badFile.path }, &msg) == 78);
    CHECK(msg.find(badFile.path + ":2") != std::string::npos);
}
