// Keep-alive: the server pings, and a peer that answers nothing for the timeout is treated as gone.
#include "ws_test_support.h"

#include "common/protocol/room_protocol.h"

#include <catch2/catch.hpp>

using namespace rc::test;

TEST_CASE("a peer that stops answering pings is gone; one that answers stays")
{
    TestLoop loop;
    rc::signaling::RoomServerConfig config;
    config.pingInterval = std::chrono::seconds(1);
    // libsoup's ping timer has whole-second granularity (and may coalesce), so
    // a live peer's pongs can be ~2 s apart; 4 s leaves room for a busy CI.
    config.peerTimeout = std::chrono::milliseconds(4000);
    InProcessServer srv(loop, config);

    WsClient alive(loop, srv.port());
    REQUIRE(alive.connected());
    const std::string idAlive = alive.join("keepalive");

    RawWsClient frozen(loop, srv.port());
    REQUIRE(frozen.upgraded());
    frozen.setAnswerPings(false);
    frozen.sendText(R"({"type":"join","room":"keepalive"})");
    auto welcome = frozen.nextText();
    REQUIRE(welcome);
    const std::string idFrozen = welcome->str("id").value_or("");
    REQUIRE(alive.nextOfType("peer-joined"));

    const gint64 start = g_get_monotonic_time();
    auto left = alive.nextOfType("peer-left", 10s);
    REQUIRE(left);
    CHECK(left->str("id") == idFrozen);
    const double waited = static_cast<double>(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    CHECK(waited >= 3.5);
    CHECK(waited < 9.0);

    // The frozen peer was pinged and is told the server is going away.
    auto code = frozen.waitClosed(8s);
    CHECK(frozen.pingsSeen() >= 1);
    REQUIRE(code);
    CHECK((*code == 1001 || *code == 1006));

    // The live client answered every ping and is still a member.
    CHECK_FALSE(alive.isClosed());
    CHECK(srv.server().dispatcher().registry().member(idAlive) != nullptr);
    WsClient other(loop, srv.port());
    other.send(R"({"type":"join","room":"keepalive"})");
    auto w = other.next();
    REQUIRE(w);
    CHECK(w->text.find(idAlive) != std::string::npos);
    CHECK(w->text.find(idFrozen) == std::string::npos);
}
