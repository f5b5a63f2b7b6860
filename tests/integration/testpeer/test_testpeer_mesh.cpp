// Two real roomcast-testpeer processes (VP8 and H264) mesh through the real room server on loopback
// and see each other's video.
#include "process_fixture.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

using namespace rc::test;
using namespace std::chrono_literals;

namespace {

const char *requireEnv(const char *name)
{
    const char *v = std::getenv(name);
    if (!v || !*v)
        FAIL(std::string(name) + " is not set (meson sets it)");
    return v;
}

std::vector<std::string> peerArgs(const std::string &url, const std::string &name,
    const std::string &codec, const std::string &pattern, const std::string &duration)
{
    return { requireEnv("ROOMCAST_TESTPEER_BIN"), "--signaling-url", url, "--room", "mesh-room",
        "--name", name, "--codec", codec, "--pattern", pattern, "--width", "320", "--height", "240",
        "--fps", "30", "--bitrate", "300", "--ice-local-address", "127.0.0.1", "--duration",
        duration };
}

long receivedFrom(const std::string &log, const std::string &peerId)
{
    std::string n = firstMatch(log, "received ([0-9]+) video frames from " + peerId + "\\b");
    return n.empty() ? -1 : std::stol(n);
}

} // namespace

TEST_CASE("a VP8 and an H264 test peer mesh on loopback, connect and exchange video",
    "[integration][testpeer]")
{
    if (auto status = runInLoopbackNamespace("ROOMCAST_TESTPEER_IN_NETNS")) {
        if (*status == 77)
            std::exit(77);
        REQUIRE(*status == 0);
        return;
    }

    ProcessFixture fx("testpeer-mesh");
    Child &server
        = fx.spawn("signal", { requireEnv("ROOMCAST_SIGNAL_BIN"), "--listen", "127.0.0.1:0" });
    std::string port;
    fx.waitFor(
        [&] {
            port = firstMatch(server.log(), "listening on 127\\.0\\.0\\.1:([0-9]+)");
            return !port.empty() || server.exited;
        },
        10s);
    INFO(fx.allLogs());
    REQUIRE_FALSE(port.empty());
    std::string url = "ws://127.0.0.1:" + port + "/ws";

    // A joins first and answers; B joins later and, by the mesh rule, offers.
    // A stays until SIGTERM (which must also leave cleanly and exit 0), so a
    // slow machine only stretches the test instead of failing it.
    Child &a = fx.spawn("peer-a-vp8", peerArgs(url, "alice", "vp8", "red", "0"));
    std::string aId;
    fx.waitFor(
        [&] {
            aId = firstMatch(a.log(), "joined room mesh-room as ([A-Za-z0-9_-]+)");
            return !aId.empty() || a.exited;
        },
        10s);
    REQUIRE_FALSE(aId.empty());
    Child &b = fx.spawn("peer-b-h264", peerArgs(url, "bob", "h264", "blue", "4"));

    REQUIRE(fx.waitExit(b, 20s));
    fx.terminate(a);
    REQUIRE(fx.waitExit(a, 10s));
    fx.terminate(server);
    fx.waitExit(server, 5s);

    if (a.exitStatus == 69 || b.exitStatus == 69) {
        WARN("a GStreamer plugin is missing:\n" + fx.allLogs());
        std::exit(77);
    }
    INFO(fx.allLogs());
    CHECK(a.exitStatus == 0);
    CHECK(b.exitStatus == 0);

    std::string aLog = a.log(), bLog = b.log();
    std::string bId = firstMatch(bLog, "joined room mesh-room as ([A-Za-z0-9_-]+)");
    REQUIRE_FALSE(bId.empty());
    CHECK(aLog.find("connected to " + bId) != std::string::npos);
    CHECK(bLog.find("connected to " + aId) != std::string::npos);
    // Media flowed both ways, through DTLS-SRTP, in both codecs.
    CHECK(receivedFrom(aLog, bId) > 0);
    CHECK(receivedFrom(bLog, aId) > 0);
    CHECK(aLog.find(" left") != std::string::npos);
    CHECK(bLog.find(" left") != std::string::npos);
}
