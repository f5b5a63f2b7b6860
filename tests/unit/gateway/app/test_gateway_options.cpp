// Tests of roomcast's option layering (config < drop-ins < command line) and value validation.
#include "common/base/startup_error.h"
#include "gateway/app/gateway_options.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace rc::gateway;
using rc::test::TempDir;
using rc::test::writeFile;

namespace {

std::optional<GatewayOptions> parse(std::vector<std::string> args)
{
    args.insert(args.begin(), "roomcast");
    std::vector<const char *> argv;
    for (const auto &a : args)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    return parseGatewayOptions(static_cast<int>(args.size()), argv.data());
}

// Expects a StartupError with this exit code whose message contains each of what.
void expectError(
    const std::vector<std::string> &args, int code, const std::vector<std::string> &what)
{
    try {
        parse(args);
        FAIL("no error");
    } catch (const rc::StartupError &e) {
        INFO(e.what());
        CHECK(e.exitCode() == code);
        for (const auto &w : what)
            CHECK(std::string(e.what()).find(w) != std::string::npos);
    }
}

} // namespace

TEST_CASE("defaults", "[options]")
{
    TempDir dir;
    writeFile(dir / "empty.conf", "# nothing\n");
    ::unsetenv("STATE_DIRECTORY");
    auto o = parse({ "--config", dir / "empty.conf" });
    REQUIRE(o);
    CHECK(o->signalingUrl == "ws://127.0.0.1:8080/ws");
    CHECK(o->pipelines == std::vector<std::string> { "record-mkv" });
    CHECK(o->recordingsDir == "./recordings");
    CHECK(o->rooms.empty());
    CHECK(o->finalizeTimeout == std::chrono::milliseconds(5000));
    CHECK(o->videoMinBitrateKbps <= o->videoStartBitrateKbps);
    CHECK(o->videoStartBitrateKbps <= o->videoMaxBitrateKbps);
    CHECK(o->logLevel == "info");
    CHECK_FALSE(o->checkConfig);
    CHECK(o->configFile == dir / "empty.conf");
    // The built-in folders come last; the source tree's first when uninstalled.
    REQUIRE_FALSE(o->pipelinesDirs.empty());
    CHECK(o->pipelinesDirs.front() == rc::test::sourcePipelinesDir());
}

TEST_CASE("STATE_DIRECTORY is the default recordings folder", "[options]")
{
    TempDir dir;
    writeFile(dir / "empty.conf", "");
    ::setenv("STATE_DIRECTORY", "/var/lib/roomcast:/var/lib/other", 1);
    auto o = parse({ "--config", dir / "empty.conf" });
    ::unsetenv("STATE_DIRECTORY");
    REQUIRE(o);
    CHECK(o->recordingsDir == "/var/lib/roomcast");
}

TEST_CASE("command line beats drop-in beats config; later drop-in beats earlier", "[options]")
{
    TempDir dir;
    writeFile(dir / "roomcast.conf",
        "room = a\nroom = b\nrecordings-dir = /from/config\nlog-level = debug\n"
        "pipeline = record-webm\nfinalize-timeout = 1000\n");
    writeFile(dir / "roomcast.conf.d/10-first.conf",
        "recordings-dir = /from/first\nlog-level = warning\n"
        "finalize-timeout = 2000\n");
    writeFile(dir / "roomcast.conf.d/20-second.conf", "recordings-dir = /from/second\nroom = c\n");
    writeFile(dir / "roomcast.conf.d/ignored.txt", "this is not read\n");
    auto o = parse(
        { "--config", dir / "roomcast.conf", "--finalize-timeout", "3000", "--check-config" });
    REQUIRE(o);
    CHECK(o->recordingsDir == "/from/second"); // later drop-in wins
    CHECK(o->logLevel == "warning"); // drop-in beats config
    CHECK(o->rooms
        == std::vector<std::string> { "c" }); // a later layer replaces all values of a list
    CHECK(o->pipelines == std::vector<std::string> { "record-webm" });
    CHECK(o->finalizeTimeout == std::chrono::milliseconds(3000)); // command line wins
    CHECK(o->checkConfig);
    CHECK(o->configFiles.size() == 3);

    auto o2 = parse({ "--config", dir / "roomcast.conf", "--room", "x", "--room", "y",
        "--pipelines-dir", "/mine" });
    REQUIRE(o2);
    CHECK(o2->rooms == std::vector<std::string> { "x", "y" });
    REQUIRE(o2->pipelinesDirs.size() >= 2);
    CHECK(o2->pipelinesDirs.front() == "/mine");
}

TEST_CASE("help and version return nullopt", "[options]")
{
    CHECK_FALSE(parse({ "--help" }));
    CHECK_FALSE(parse({ "--version" }));
}

TEST_CASE("bad command-line options exit 64", "[options]")
{
    TempDir dir;
    writeFile(dir / "c.conf", "");
    const std::string c = dir / "c.conf";
    expectError({ "--config", c, "--no-such-option" }, 64, { "no-such-option" });
    expectError({ "--config", c, "--room" }, 64, { "room" });
    expectError({ "--config", c, "--room", "bad room" }, 64, { "--room", "bad room" });
    expectError({ "--config", c, "--room", std::string(65, 'r') }, 64, { "--room" });
    expectError({ "--config", c, "--room", "a", "--room", "a" }, 64, { "twice" });
    expectError({ "--config", c, "--signaling-url", "http://example.org/ws" }, 64,
        { "--signaling-url", "ws://" });
    expectError({ "--config", c, "--signaling-url", "ws://" }, 64, { "--signaling-url" });
    expectError({ "--config", c, "--ice-local-address", "300.1.1.1" }, 64,
        { "--ice-local-address", "300.1.1.1" });
    expectError(
        { "--config", c, "--ice-local-address", "localhost" }, 64, { "--ice-local-address" });
    expectError({ "--config", c, "--stun-server", "turn://a:b@h:1" }, 64, { "--stun-server" });
    expectError({ "--config", c, "--turn-server", "turn://host:3478" }, 64,
        { "--turn-server", "user:password" });
    expectError({ "--config", c, "--turn-server", "stun://host:3478" }, 64, { "--turn-server" });
    expectError({ "--config", c, "--ice-transport-policy", "relay-please" }, 64,
        { "--ice-transport-policy", "relay-please" });
    expectError({ "--config", c, "--ice-transport-policy", "relay" }, 64,
        { "--ice-transport-policy", "--turn-server" });
    expectError({ "--config", c, "--video-min-bitrate", "abc" }, 64, { "video-min-bitrate" });
    expectError({ "--config", c, "--video-min-bitrate", "5000" }, 64, { "min <= start <= max" });
    expectError({ "--config", c, "--finalize-timeout", "0" }, 64, { "--finalize-timeout" });
    expectError({ "--config", c, "--log-level", "loud" }, 64, { "--log-level" });
    expectError({ "--config", c, "--pipeline", "../x" }, 64, { "--pipeline" });
    expectError({ "--config", "" }, 64, { "--config" });
}

TEST_CASE("good values are accepted", "[options]")
{
    TempDir dir;
    writeFile(dir / "c.conf", "");
    auto o = parse({ "--config", dir / "c.conf", "--signaling-url",
        "wss://rooms.example.org:8443/ws?x=1", "--ice-local-address", "127.0.0.1",
        "--ice-local-address", "::1", "--stun-server", "stun://stun.example.org:3478",
        "--turn-server", "turns://u:p%40ss@turn.example.org:5349", "--room", "Stand_up-1",
        "--log-level", "debug" });
    REQUIRE(o);
    CHECK(o->iceLocalAddresses == std::vector<std::string> { "127.0.0.1", "::1" });
    CHECK(o->turnServer == "turns://u:p%40ss@turn.example.org:5349");
    CHECK_FALSE(o->relayOnly);
    auto relay = parse({ "--config", dir / "c.conf", "--turn-server", "turn://u:p@127.0.0.1:3478",
        "--ice-transport-policy", "relay" });
    REQUIRE(relay);
    CHECK(relay->relayOnly);
}

TEST_CASE("bad config lines exit 78 naming file and line", "[options]")
{
    TempDir dir;
    auto check = [&](const std::string &text, int line, const std::string &what) {
        INFO(text);
        writeFile(dir / "bad.conf", text);
        expectError({ "--config", dir / "bad.conf" }, 78,
            { dir / "bad.conf" + ":" + std::to_string(line) + ":", what });
    };
    check("# ok\nroom = fine\nroom = not fine\n", 3, "not fine");
    check("\n\nsignaling-url = ftp://x/\n", 3, "ws://");
    check("no equals sign\n", 1, "expected");
    check("colour = blue\n", 1, "colour");
    check("video-max-bitrate = lots\n", 1, "video-max-bitrate");
    check("ice-local-address = 127.0.0.1\nice-local-address = 203.0.113.300\n", 2, "203.0.113.300");
    check("help = 1\n", 1, "help");

    // A bad drop-in is named, not the main file.
    writeFile(dir / "main.conf", "room = ok\n");
    writeFile(dir / "main.conf.d/50-x.conf", "\nlog-level = shouting\n");
    expectError({ "--config", dir / "main.conf" }, 78, { "50-x.conf:2:", "shouting" });
    // A missing --config file is a config error.
    expectError({ "--config", dir / "absent.conf" }, 78, { "absent.conf" });
}

TEST_CASE("readTokenFile trims trailing whitespace", "[options]")
{
    TempDir dir;
    std::string token, error;
    writeFile(dir / "token", "eyJhbGciOi.J9.sig \n\n");
    REQUIRE(readTokenFile(dir / "token", token, error));
    CHECK(token == "eyJhbGciOi.J9.sig");
    writeFile(dir / "empty", "  \n");
    CHECK_FALSE(readTokenFile(dir / "empty", token, error));
    CHECK(error.find("empty") != std::string::npos);
    CHECK_FALSE(readTokenFile(dir / "absent", token, error));
    writeFile(dir / "two", "a\nb\n");
    CHECK_FALSE(readTokenFile(dir / "two", token, error));
}

TEST_CASE("validateGatewayOptions checks the token file and recordings folder", "[options]")
{
    TempDir dir;
    GatewayOptions o;
    o.recordingsDir = dir.path();
    CHECK_NOTHROW(validateGatewayOptions(o));
    o.tokenFile = dir / "absent";
    CHECK_THROWS_WITH(validateGatewayOptions(o), Catch::Contains("absent"));
    o.tokenFile.clear();
    writeFile(dir / "file", "x");
    o.recordingsDir = dir / "file";
    CHECK_THROWS_WITH(validateGatewayOptions(o), Catch::Contains("not a folder"));
}

TEST_CASE("name checks", "[options]")
{
    CHECK(isValidRoomName("a"));
    CHECK(isValidRoomName(std::string(64, 'a')));
    CHECK_FALSE(isValidRoomName(""));
    CHECK_FALSE(isValidRoomName("a.b")); // '.' is not in the protocol's room alphabet
    CHECK(isValidIpAddress("0.0.0.0"));
    CHECK(isValidIpAddress("fe80::1"));
    CHECK_FALSE(isValidIpAddress("1.2.3"));
    std::string why;
    CHECK(isValidSignalingUrl("ws://127.0.0.1:8080/ws", why));
    CHECK_FALSE(isValidSignalingUrl("ws://user:pw@h/ws", why));
}

TEST_CASE("control API and webhook options", "[options][ops]")
{
    TempDir dir;
    writeFile(dir / "empty.conf", "");
    auto o = parse({ "--config", dir / "empty.conf" });
    REQUIRE(o);
    CHECK(o->apiEnabled);
    CHECK(o->apiHost == "127.0.0.1");
    CHECK(o->apiPort == 8081);
    CHECK(o->apiTokenFile.empty());
    CHECK(o->webhookUrls.empty());
    CHECK(o->webhookQueue == 1000);
    CHECK(o->argv == std::vector<std::string> { "roomcast", "--config", dir / "empty.conf" });

    o = parse({ "--config", dir / "empty.conf", "--api-listen", "none" });
    REQUIRE(o);
    CHECK_FALSE(o->apiEnabled);
    o = parse({ "--config", dir / "empty.conf", "--api-listen", "[::1]:0" });
    REQUIRE(o);
    CHECK(o->apiHost == "::1");
    CHECK(o->apiPort == 0);
    // Off loopback only with a token file.
    o = parse({ "--config", dir / "empty.conf", "--api-listen", "0.0.0.0:9000", "--api-token-file",
        dir / "api-token" });
    REQUIRE(o);
    CHECK(o->apiHost == "0.0.0.0");
    expectError({ "--config", dir / "empty.conf", "--api-listen", "0.0.0.0:9000" }, 78,
        { "not a loopback", "api-token-file" });
    expectError(
        { "--config", dir / "empty.conf", "--api-listen", "[::]:9000" }, 78, { "not a loopback" });
    expectError({ "--config", dir / "empty.conf", "--api-listen", "example.org:80" }, 64,
        { "api-listen", "HOST:PORT" });

    o = parse({ "--config", dir / "empty.conf", "--webhook-url", "https://hooks.example.org/rc",
        "--webhook-url", "http://127.0.0.1:9/x", "--webhook-secret-file", dir / "secret",
        "--webhook-queue", "10" });
    REQUIRE(o);
    CHECK(o->webhookUrls.size() == 2);
    CHECK(o->webhookSecretFile == dir / "secret");
    CHECK(o->webhookQueue == 10);
    expectError({ "--config", dir / "empty.conf", "--webhook-url", "http://127.0.0.1:9/x" }, 64,
        { "webhook-secret-file" });
    expectError({ "--config", dir / "empty.conf", "--webhook-url", "file:///etc/passwd",
                    "--webhook-secret-file", dir / "secret" },
        64, { "webhook-url", "http" });
    expectError(
        { "--config", dir / "empty.conf", "--webhook-queue", "0" }, 64, { "webhook-queue" });
}

TEST_CASE("control API and webhook config lines exit 78 naming file and line", "[options][ops]")
{
    TempDir dir;
    auto check = [&](const std::string &text, int line, const std::string &what) {
        INFO(text);
        writeFile(dir / "bad.conf", text);
        expectError({ "--config", dir / "bad.conf" }, 78,
            { dir / "bad.conf" + ":" + std::to_string(line) + ":", what });
    };
    check("\napi-listen = 0.0.0.0:8081\n", 2, "api-token-file");
    check("api-listen = nowhere\n", 1, "HOST:PORT");
    check("webhook-secret-file = /x\n\nwebhook-url = ftp://x/\n", 3, "http");
    check("webhook-url = http://127.0.0.1:1/\n", 1, "webhook-secret-file");
    // Good ones, including the API's documented off switch.
    writeFile(dir / "good.conf",
        "api-listen = none\nwebhook-url = http://127.0.0.1:1/\nwebhook-secret-file = /s\n");
    auto o = parse({ "--config", dir / "good.conf" });
    REQUIRE(o);
    CHECK_FALSE(o->apiEnabled);
}

TEST_CASE("validateGatewayOptions reads the API token and webhook secret", "[options][ops]")
{
    TempDir dir;
    GatewayOptions o;
    o.recordingsDir = dir.path();
    o.apiTokenFile = dir / "absent-token";
    CHECK_THROWS_WITH(validateGatewayOptions(o), Catch::Contains("api-token-file"));
    writeFile(dir / "token", "s3cret\n");
    o.apiTokenFile = dir / "token";
    CHECK_NOTHROW(validateGatewayOptions(o));
    o.webhookSecretFile = dir / "absent-secret";
    CHECK_THROWS_WITH(validateGatewayOptions(o), Catch::Contains("webhook-secret-file"));
}
