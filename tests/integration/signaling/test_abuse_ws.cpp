// Hostile input: oversize, fragmented, binary, invalid UTF-8, deep nesting, floods, compression;
// other rooms keep working.
#include "ws_test_support.h"

#include "common/protocol/room_protocol.h"
#include "signaling/message_inflater.h"

#include <catch2/catch.hpp>

using namespace rc::test;
namespace protocol = rc::protocol;

namespace {

struct Fixture
{
    TestLoop loop;
    InProcessServer srv;
    std::unique_ptr<WsClient> x, y; // a bystander pair in another room
    std::string idY;

    explicit Fixture(rc::signaling::RoomServerConfig config = {})
        : srv(loop, std::move(config))
    {
        x = client();
        y = client();
        x->join("bystanders");
        idY = y->join("bystanders");
        REQUIRE(x->nextOfType("peer-joined"));
    }
    std::unique_ptr<WsClient> client(bool offerDeflate = false)
    {
        auto c = std::make_unique<WsClient>(loop, srv.port(), "127.0.0.1", offerDeflate);
        REQUIRE(c->connected());
        return c;
    }
    // The other room still works.
    void bystandersStillTalk()
    {
        x->send(protocol::encodeOffer(idY, "still here"));
        auto m = y->next();
        REQUIRE(m);
        CHECK(m->type() == "offer");
        CHECK_FALSE(x->isClosed());
        CHECK_FALSE(y->isClosed());
    }
};

// A JSON object of exactly `size` bytes with the given type.
std::string jsonOfSize(const std::string &type, size_t size)
{
    std::string head = R"({"type":")" + type + R"(","pad":")";
    std::string tail = R"("})";
    REQUIRE(size > head.size() + tail.size());
    return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

void requireError(WsClient &c, const char *code)
{
    auto m = c.next();
    REQUIRE(m);
    INFO(m->text.substr(0, 200));
    REQUIRE(m->type() == "error");
    REQUIRE(m->str("code") == code);
}

} // namespace

TEST_CASE("the size limit is 65536 bytes: too-large, then close 1009")
{
    Fixture f;
    auto c = f.client();
    c->join("big");
    auto peer = f.client();
    peer->join("big");
    REQUIRE(c->nextOfType("peer-joined"));

    // Exactly at the limit is accepted (and judged on its content).
    c->send(jsonOfSize("dance", protocol::kMaxMessageBytes));
    requireError(*c, "bad-message");

    const size_t size = GENERATE(protocol::kMaxMessageBytes + 1, size_t(1) << 20);
    c->send(jsonOfSize("offer", size));
    requireError(*c, "too-large");
    CHECK(c->waitClosed() == 1009);
    // The member left its room.
    auto left = peer->nextOfType("peer-left");
    REQUIRE(left);
    f.bystandersStillTalk();
}

TEST_CASE("a message fragmented into small frames is measured whole")
{
    Fixture f;
    RawWsClient raw(f.loop, f.srv.port());
    REQUIRE(raw.upgraded());
    const std::string text = jsonOfSize("offer", 90000);
    raw.sendFrame(0x1, text.substr(0, 30000), false);
    raw.sendFrame(0x0, text.substr(30000, 30000), false);
    raw.sendFrame(0x0, text.substr(60000), true);
    auto m = raw.nextText();
    REQUIRE(m);
    CHECK(m->str("code") == "too-large");
    CHECK(raw.waitClosed() == 1009);
    f.bystandersStillTalk();
}

TEST_CASE("a frame past libsoup's own limit ends the connection without harming others")
{
    // Documented limitation: libsoup resets a frame larger than its
    // max-incoming-payload-size (4 MiB here) before we see it.
    Fixture f;
    RawWsClient raw(f.loop, f.srv.port());
    REQUIRE(raw.upgraded());
    raw.sendFrame(0x1, std::string(5 << 20, ' '));
    CHECK(raw.waitClosed(10s));
    f.bystandersStillTalk();
}

TEST_CASE("a binary frame gets bad-message and the connection stays open")
{
    Fixture f;
    auto c = f.client();
    c->sendBinary(std::string("\x00\x01\x02{}", 5));
    requireError(*c, "bad-message");
    c->sendBinary(R"({"type":"join","room":"r"})");
    requireError(*c, "bad-message");
    CHECK_FALSE(c->isClosed());
    CHECK_FALSE(c->join("r").empty());
    c->sendBinary("x");
    requireError(*c, "bad-message");
    CHECK_FALSE(c->isClosed());
    f.bystandersStillTalk();
}

TEST_CASE("invalid UTF-8 in a text frame: libsoup closes with 1007 and the member leaves")
{
    Fixture f;
    auto peer = f.client();
    peer->join("utf");
    RawWsClient raw(f.loop, f.srv.port());
    REQUIRE(raw.upgraded());
    raw.sendText(R"({"type":"join","room":"utf"})");
    auto welcome = raw.nextText();
    REQUIRE(welcome);
    REQUIRE(welcome->type() == "welcome");
    REQUIRE(peer->nextOfType("peer-joined"));

    raw.sendText(std::string(R"({"type":"offer","x":")") + "\xff\xfe\xc0\xaf" + R"("})");
    CHECK(raw.waitClosed() == 1007);
    auto left = peer->nextOfType("peer-left");
    REQUIRE(left);
    CHECK(left->str("id") == welcome->str("id"));
    f.bystandersStillTalk();
}

TEST_CASE("deep JSON nesting gets bad-message and the connection stays open")
{
    Fixture f;
    auto c = f.client();
    const int depth = GENERATE(33, 1000, 30000);
    c->send(std::string(depth, '[') + std::string(depth, ']'));
    requireError(*c, "bad-message");
    c->send(R"({"type":"join","room":"r","x":)" + std::string(depth, '{') + std::string(depth, '}')
        + "}");
    // Unbalanced braces are still refused for depth before anything is parsed.
    auto m = c->next();
    REQUIRE(m);
    CHECK(m->str("code") == "bad-message");
    CHECK_FALSE(c->isClosed());
    CHECK_FALSE(c->join("r").empty());
    f.bystandersStillTalk();
}

TEST_CASE("a flood past the rate limit: rate-limited, messages dropped, connection open, recovers")
{
    Fixture f;
    auto flooder = f.client();
    auto target = f.client();
    flooder->join("flood");
    const std::string idT = target->join("flood");
    REQUIRE(flooder->nextOfType("peer-joined"));

    const int sent = 1500;
    for (int i = 0; i < sent; ++i)
        flooder->send(protocol::encodeCandidate(idT, std::nullopt));

    auto limited = flooder->nextOfType("error");
    REQUIRE(limited);
    CHECK(limited->str("code") == "rate-limited");

    // Everything that was not dropped arrives: at least the 200-message burst
    // the spec asks for, and fewer than were sent.
    f.loop.runFor(500ms);
    size_t delivered = 0;
    while (target->next(100ms))
        ++delivered;
    CHECK(delivered >= 200);
    CHECK(delivered < static_cast<size_t>(sent));
    // A bounded number of notices, not one per dropped message.
    size_t notices = 1;
    while (auto m = flooder->next(50ms))
        notices += m->str("code") == "rate-limited" ? 1 : 0;
    CHECK(notices < 10);

    CHECK_FALSE(flooder->isClosed());
    f.bystandersStillTalk();
    // Tokens come back: after a pause, messages flow again.
    f.loop.runFor(1100ms);
    flooder->send(protocol::encodeOffer(idT, "after the flood"));
    auto m = target->next();
    REQUIRE(m);
    CHECK(m->type() == "offer");
}

TEST_CASE("50 messages per second sustained are never rate-limited")
{
    Fixture f;
    auto a = f.client();
    auto b = f.client();
    a->join("steady");
    const std::string idB = b->join("steady");
    REQUIRE(a->nextOfType("peer-joined"));
    // 250 at once (past the 200 burst), then 60/s for 2 s.
    for (int i = 0; i < 250; ++i)
        a->send(protocol::encodeCandidate(idB, std::nullopt));
    for (int i = 0; i < 120; ++i) {
        a->send(protocol::encodeCandidate(idB, std::nullopt));
        f.loop.runFor(std::chrono::milliseconds(1000 / 60));
    }
    size_t delivered = 0;
    while (b->next(200ms))
        ++delivered;
    CHECK(delivered == 370);
    CHECK(a->silentFor(50ms));
}

TEST_CASE("permessage-deflate is negotiated without context takeover, and works both ways")
{
    Fixture f;
    auto a = f.client(true);
    auto b = f.client(true);
    const char *ext = nullptr;
    for (GList *l = soup_websocket_connection_get_extensions(a->connection()); l; l = l->next)
        ext = SOUP_WEBSOCKET_EXTENSION_GET_CLASS(l->data)->name;
    REQUIRE(ext);
    CHECK(std::string(ext) == "permessage-deflate");
    a->join("deflate");
    const std::string idB = b->join("deflate");
    REQUIRE(a->nextOfType("peer-joined"));
    // An offer of 60 KiB (libsoup's client compresses it; the server inflates it, forwards it
    // compressed again) arrives whole.
    const std::string sdp = std::string(60000, 'v');
    a->send(protocol::encodeOffer(idB, sdp));
    auto m = b->nextOfType("offer");
    REQUIRE(m);
    CHECK(m->text.size() > sdp.size());
    CHECK(m->text.find(sdp) != std::string::npos);
    // Counted after decompression: 70 KiB of text that compress to almost nothing are too large.
    a->send(protocol::encodeOffer(idB, std::string(70000, 'v')));
    requireError(*a, "too-large");
    CHECK(a->waitClosed() == 1009);
    f.bystandersStillTalk();
}

TEST_CASE("a compression bomb costs nothing: too-large and 1009 after 64 KiB of output")
{
    Fixture f;
    RawWsClient raw(f.loop, f.srv.port(),
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    REQUIRE(raw.upgraded());
    const std::string &head = raw.responseHead();
    CHECK(head.find("permessage-deflate") != std::string::npos);
    CHECK(head.find("client_no_context_takeover") != std::string::npos);
    CHECK(head.find("server_no_context_takeover") != std::string::npos);
    // A compressed join works.
    raw.sendFrame(
        0x1, rc::signaling::compressMessage(R"({"type":"join","room":"bomb"})"), true, true);
    auto welcome = raw.nextText();
    REQUIRE(welcome);
    CHECK(welcome->type() == "welcome");

    // 64 MiB of JSON that deflate to about 64 KiB, in frames of 16 KiB.
    const std::string text
        = R"({"type":"offer","to":"p9","sdp":")" + std::string(64u << 20, 'A') + R"("})";
    const std::string bomb = rc::signaling::compressMessage(text);
    REQUIRE(bomb.size() < (1u << 20));
    const long rssBefore = rc::test::residentKiB();
    const gint64 startUs = g_get_monotonic_time();
    for (size_t i = 0; i < bomb.size(); i += 16384) {
        const bool first = i == 0;
        const bool last = i + 16384 >= bomb.size();
        raw.sendFrame(first ? 0x1 : 0x0, bomb.substr(i, 16384), last, first);
    }
    auto m = raw.nextText(10s);
    REQUIRE(m);
    CHECK(m->type() == "error");
    CHECK(m->str("code") == "too-large");
    CHECK(raw.waitClosed() == 1009);
    const double seconds = (g_get_monotonic_time() - startUs) / 1e6;
    const long grownKiB = rc::test::residentKiB() - rssBefore;
    INFO("refused in " << seconds << " s, RSS grew " << grownKiB << " KiB");
    // Inflating it all would take 64 MiB; the bound is 64 KiB and no time.
    CHECK(grownKiB < 16 * 1024);
    f.bystandersStillTalk();
}

TEST_CASE("compressed data that is not DEFLATE closes with 1002; other rooms go on")
{
    Fixture f;
    RawWsClient raw(f.loop, f.srv.port(), "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    REQUIRE(raw.upgraded());
    raw.sendFrame(0x1, std::string("\xff\xff\xff\xff\xff\xff", 6), true, true);
    CHECK(raw.waitClosed() == 1002);
    f.bystandersStillTalk();
}
