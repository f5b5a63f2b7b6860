// RFC 6455 framing as the room server now does it itself (signaling/ws_connection.*): what a
// client may send (fragments with control frames between them, a close handshake) and what
// ends the connection with 1002.
#include "ws_test_support.h"

#include "common/protocol/room_protocol.h"

#include <catch2/catch.hpp>

using namespace rc::test;
using namespace std::chrono_literals;

namespace {

std::string joinText(const std::string &room)
{
    return R"({"type":"join","room":")" + room + R"("})";
}

} // namespace

TEST_CASE("a message in fragments with a ping between them is reassembled")
{
    TestLoop loop;
    InProcessServer srv(loop);
    RawWsClient raw(loop, srv.port());
    REQUIRE(raw.upgraded());
    const std::string join = joinText("frag");
    raw.sendFrame(0x1, join.substr(0, 5), false);
    raw.sendFrame(0x9, "are you there", true); // control frames may come between fragments
    raw.sendFrame(0x0, join.substr(5, 7), false);
    raw.sendFrame(0x0, join.substr(12), true);
    auto welcome = raw.nextText();
    REQUIRE(welcome);
    CHECK(welcome->type() == "welcome");
    // A fragmented binary message is one message too: one bad-message, the connection stays.
    raw.sendFrame(0x2, "ab", false);
    raw.sendFrame(0x0, "cd", true);
    auto error = raw.nextText();
    REQUIRE(error);
    CHECK(error->str("code") == "bad-message");
    raw.sendText(R"({"type":"leave"})");
    CHECK(raw.waitClosed() == 1000);
}

TEST_CASE("the client's close is echoed with its status and the member leaves")
{
    TestLoop loop;
    InProcessServer srv(loop);
    WsClient peer(loop, srv.port());
    REQUIRE_FALSE(peer.join("bye").empty());
    RawWsClient raw(loop, srv.port());
    REQUIRE(raw.upgraded());
    raw.sendText(joinText("bye"));
    REQUIRE(raw.nextText());
    REQUIRE(peer.nextOfType("peer-joined"));
    raw.sendFrame(0x8, std::string("\x0f\xa0see you", 9)); // 4000
    CHECK(raw.waitClosed() == 4000);
    auto left = peer.nextOfType("peer-left");
    REQUIRE(left);
    REQUIRE(loop.until([&] { return srv.server().connectionCount() == 1; }, 5s));
}

TEST_CASE("frames a server must refuse close the connection with 1002")
{
    TestLoop loop;
    InProcessServer srv(loop);
    WsClient bystander(loop, srv.port());
    REQUIRE_FALSE(bystander.join("calm").empty());
    RawWsClient raw(loop, srv.port());
    REQUIRE(raw.upgraded());
    raw.sendText(joinText("broken"));
    REQUIRE(raw.nextText());

    const int which = GENERATE(range(0, 7));
    switch (which) {
    case 0: // a continuation with no message begun
        raw.sendFrame(0x0, "orphan", true);
        break;
    case 1: // a new message inside a fragmented one
        raw.sendFrame(0x1, "{", false);
        raw.sendFrame(0x1, "{}", true);
        break;
    case 2: // RSV1 without a negotiated extension
        raw.sendFrame(0x1, "{}", true, true);
        break;
    case 3: // a fragmented control frame
        raw.sendFrame(0x9, "x", false);
        break;
    case 4: // an unknown opcode
        raw.sendFrame(0x3, "x", true);
        break;
    case 5: // a close status that may not be sent (1005: "no status")
        raw.sendFrame(0x8, std::string("\x03\xed", 2));
        break;
    case 6: // a close payload of one byte
        raw.sendFrame(0x8, std::string("\x03", 1));
        break;
    }
    INFO("case " << which);
    CHECK(raw.waitClosed() == 1002);
    REQUIRE(loop.until([&] { return srv.server().connectionCount() == 1; }, 7s));
    // The other connection never noticed.
    bystander.send(
        rc::protocol::encodeCandidate("nobody", rc::protocol::Candidate { "candidate:x", "0", 0 }));
    auto answer = bystander.nextOfType("error");
    REQUIRE(answer);
    CHECK(answer->str("code") == "unknown-peer");
}
