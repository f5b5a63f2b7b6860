// Every row of the room protocol's tables and every error code, over real WebSockets.
#include "ws_test_support.h"

#include "common/protocol/room_protocol.h"

#include <catch2/catch.hpp>

#include <ctime>
#include <regex>
#include <set>

using namespace rc::test;
namespace protocol = rc::protocol;

namespace {

struct Fixture
{
    TestLoop loop;
    InProcessServer srv;
    explicit Fixture(rc::signaling::RoomServerConfig config = {})
        : srv(loop, std::move(config))
    { }
    std::unique_ptr<WsClient> client()
    {
        auto c = std::make_unique<WsClient>(loop, srv.port());
        REQUIRE(c->connected());
        return c;
    }
};

void requireError(WsClient &c, const char *code)
{
    auto m = c.next();
    REQUIRE(m);
    INFO(m->text);
    REQUIRE(m->type() == "error");
    REQUIRE(m->str("code") == code);
    REQUIRE(m->str("message"));
}

} // namespace

TEST_CASE("join gets a welcome; later members see earlier ones and are announced")
{
    Fixture f;
    auto a = f.client();
    a->send(R"({"type":"join","room":"standup","name":"alice"})");
    auto wa = a->next();
    REQUIRE(wa);
    CHECK(wa->type() == "welcome");
    const std::string idA = wa->str("id").value_or("");
    CHECK(std::regex_match(idA, std::regex("[A-Za-z0-9_-]{1,64}")));
    CHECK(wa->str("room") == "standup");
    CHECK(wa->boolean("recording") == false);
    JsonArray *peers = rc::json::arrayMember(wa->object(), "peers");
    REQUIRE(peers);
    CHECK(json_array_get_length(peers) == 0);

    auto b = f.client();
    b->send(R"({"type":"join","room":"standup"})");
    auto wb = b->next();
    REQUIRE(wb);
    REQUIRE(wb->type() == "welcome");
    const std::string idB = wb->str("id").value_or("");
    CHECK(idB != idA);
    peers = rc::json::arrayMember(wb->object(), "peers");
    REQUIRE(peers);
    REQUIRE(json_array_get_length(peers) == 1);
    JsonObject *p0 = json_array_get_object_element(peers, 0);
    CHECK(rc::json::stringMember(p0, "id") == idA);
    CHECK(rc::json::stringMember(p0, "name") == "alice");

    auto joined = a->next();
    REQUIRE(joined);
    CHECK(joined->type() == "peer-joined");
    JsonObject *peer = rc::json::objectMember(joined->object(), "peer");
    REQUIRE(peer);
    CHECK(rc::json::stringMember(peer, "id") == idB);
    // A member that gave no name has name null.
    CHECK(rc::json::isNullMember(peer, "name"));

    // The new member is not told about itself.
    CHECK(b->silentFor(200ms));
}

TEST_CASE("offer, answer and candidate are forwarded to 'to' with 'from' set and 'to' removed")
{
    Fixture f;
    auto a = f.client();
    auto b = f.client();
    auto c = f.client();
    const std::string idA = a->join("r1", "alice");
    const std::string idB = b->join("r1", "bob");
    const std::string idC = c->join("r1", "carol");
    REQUIRE(a->nextOfType("peer-joined"));
    REQUIRE(a->nextOfType("peer-joined"));
    REQUIRE(b->nextOfType("peer-joined"));

    SECTION("offer")
    {
        c->send(R"({"type":"offer","to":")" + idA
            + R"(","offer":{"type":"offer","sdp":"v=0 offer"},"extra":{"k":[1,2]}})");
        auto m = a->next();
        REQUIRE(m);
        CHECK(m->type() == "offer");
        CHECK(m->str("from") == idC);
        CHECK_FALSE(m->has("to"));
        CHECK_FALSE(m->has("hidden"));
        JsonObject *offer = rc::json::objectMember(m->object(), "offer");
        REQUIRE(offer);
        CHECK(rc::json::stringMember(offer, "sdp") == "v=0 offer");
        // Unknown fields are ignored by the server and forwarded as sent.
        CHECK(m->has("extra"));
        CHECK(b->silentFor(150ms));
    }
    SECTION("answer")
    {
        a->send(protocol::encodeAnswer(idC, "v=0 answer"));
        auto m = c->next();
        REQUIRE(m);
        CHECK(m->type() == "answer");
        CHECK(m->str("from") == idA);
        CHECK_FALSE(m->has("to"));
        CHECK(rc::json::stringMember(rc::json::objectMember(m->object(), "answer"), "sdp")
            == "v=0 answer");
    }
    SECTION("candidate and end-of-candidates")
    {
        b->send(protocol::encodeCandidate(
            idA, protocol::Candidate { "candidate:1 1 udp 1 127.0.0.1 9 typ host", "0", 0 }));
        b->send(protocol::encodeCandidate(idA, std::nullopt));
        auto m1 = a->next();
        REQUIRE(m1);
        CHECK(m1->type() == "candidate");
        CHECK(m1->str("from") == idB);
        JsonObject *cand = rc::json::objectMember(m1->object(), "candidate");
        REQUIRE(cand);
        CHECK(rc::json::stringMember(cand, "sdpMid") == "0");
        auto m2 = a->next();
        REQUIRE(m2);
        CHECK(m2->type() == "candidate");
        CHECK(rc::json::isNullMember(m2->object(), "candidate"));
    }
    SECTION("client-supplied from and hidden are replaced or removed")
    {
        b->send(R"({"type":"offer","to":")" + idA
            + R"(","from":"p999","hidden":true,"offer":{"type":"offer","sdp":"x"}})");
        auto m = a->next();
        REQUIRE(m);
        CHECK(m->str("from") == idB);
        CHECK_FALSE(m->has("hidden"));
        b->send(R"({"type":"candidate","from":")" + idC + R"(","hidden":false,"candidate":null})");
        for (auto *rx : { a.get(), c.get() }) {
            auto n = rx->next();
            REQUIRE(n);
            CHECK(n->str("from") == idB);
            CHECK_FALSE(n->has("hidden"));
        }
    }
    SECTION("'to': null counts as absent")
    {
        b->send(R"({"type":"answer","to":null,"answer":{"type":"answer","sdp":"x"}})");
        REQUIRE(a->next());
        REQUIRE(c->next());
    }
}

TEST_CASE("a message without 'to' goes to every other visible member")
{
    Fixture f;
    auto a = f.client();
    auto b = f.client();
    auto c = f.client();
    auto other = f.client();
    const std::string idA = a->join("room-x");
    b->join("room-x");
    c->join("room-x");
    other->join("room-y");
    REQUIRE(a->nextOfType("peer-joined"));
    REQUIRE(a->nextOfType("peer-joined"));
    REQUIRE(b->nextOfType("peer-joined"));

    a->send(protocol::encodeOffer(std::nullopt, "v=0 broadcast"));
    for (auto *rx : { b.get(), c.get() }) {
        auto m = rx->next();
        REQUIRE(m);
        CHECK(m->type() == "offer");
        CHECK(m->str("from") == idA);
    }
    CHECK(a->silentFor(150ms)); // never back to the sender
    CHECK(other->silentFor(50ms)); // never to another room
}

TEST_CASE("leave: peer-left to the others, then close 1000")
{
    Fixture f;
    auto a = f.client();
    auto b = f.client();
    const std::string idA = a->join("r");
    b->join("r");
    REQUIRE(a->nextOfType("peer-joined"));

    SECTION("by leave message")
    {
        b->send(protocol::encodeLeave());
        CHECK(b->waitClosed() == 1000);
    }
    SECTION("by closing the connection")
    {
        b->close(1000);
    }
    SECTION("by an abrupt end of the connection")
    {
        GIOStream *io = soup_websocket_connection_get_io_stream(b->connection());
        g_io_stream_close(io, nullptr, nullptr);
    }
    auto left = a->next();
    REQUIRE(left);
    CHECK(left->type() == "peer-left");
    CHECK_FALSE(left->str("id").value_or("").empty());
    CHECK(left->str("id") != idA);
    CHECK(f.loop.until([&] { return f.srv.server().dispatcher().registry().memberCount() == 1; }));
}

TEST_CASE("bad-message: not JSON, not an object, no type, unknown type; joined or not; stays open")
{
    Fixture f;
    auto c = f.client();
    const bool joined = GENERATE(false, true);
    if (joined)
        c->join("r");
    for (const char *text : { "not json", "[1,2]", "42", "\"join\"", "{}", R"({"type":7})",
             R"({"type":"dance"})", R"({"type":null,"room":"r"})", "{\"type\":\"join\"" }) {
        INFO(text);
        c->send(text);
        requireError(*c, "bad-message");
    }
    CHECK_FALSE(c->isClosed());
    if (!joined)
        CHECK_FALSE(c->join("r").empty());
}

TEST_CASE("bad-message: missing or ill-typed fields")
{
    Fixture f;
    auto c = f.client();
    for (const char *text :
        { R"({"type":"join"})", R"({"type":"join","room":""})", R"({"type":"join","room":"a b"})",
            R"({"type":"join","room":5})", R"({"type":"join","room":"r","hidden":"yes"})",
            R"({"type":"join","room":"r","name":7})", R"({"type":"join","room":"r","token":1})" }) {
        INFO(text);
        c->send(text);
        requireError(*c, "bad-message");
    }
    const std::string longRoom(65, 'a');
    c->send(R"({"type":"join","room":")" + longRoom + R"("})");
    requireError(*c, "bad-message");

    c->join("r");
    for (const char *text : { R"({"type":"offer"})", R"({"type":"offer","offer":"sdp"})",
             R"({"type":"offer","offer":{"type":"answer","sdp":"x"}})",
             R"({"type":"offer","offer":{"type":"offer"}})", R"({"type":"answer","answer":{}})",
             R"({"type":"candidate"})", R"({"type":"candidate","candidate":"x"})",
             R"({"type":"candidate","candidate":{"sdpMid":"0"}})",
             R"({"type":"offer","to":5,"offer":{"type":"offer","sdp":"x"}})" }) {
        INFO(text);
        c->send(text);
        requireError(*c, "bad-message");
    }
    CHECK_FALSE(c->isClosed());
}

TEST_CASE("not-joined: anything but join before join, leave included")
{
    Fixture f;
    auto c = f.client();
    for (const std::string &text :
        { protocol::encodeOffer("p1", "x"), protocol::encodeAnswer(std::nullopt, "x"),
            protocol::encodeCandidate(std::nullopt, std::nullopt), protocol::encodeLeave(),
            // Ill-formed but of a known type: not-joined wins over bad-message.
            std::string(R"({"type":"offer","offer":42})") }) {
        INFO(text);
        c->send(text);
        requireError(*c, "not-joined");
    }
    CHECK_FALSE(c->isClosed());
    CHECK_FALSE(c->join("r").empty());
}

TEST_CASE("already-joined: a second join, valid or not")
{
    Fixture f;
    auto c = f.client();
    const std::string id = c->join("r");
    for (const char *text : { R"({"type":"join","room":"r"})", R"({"type":"join","room":"other"})",
             R"({"type":"join","room":"bad room!"})", R"({"type":"join"})" }) {
        INFO(text);
        c->send(text);
        requireError(*c, "already-joined");
    }
    // Still a member of the first room.
    auto d = f.client();
    d->send(R"({"type":"join","room":"r"})");
    auto w = d->next();
    REQUIRE(w);
    CHECK(w->text.find(id) != std::string::npos);
}

TEST_CASE("unknown-peer: 'to' names no member of the sender's room")
{
    Fixture f;
    auto a = f.client();
    auto b = f.client();
    a->join("r1");
    const std::string idB = b->join("r2");
    for (const std::string &to : { std::string("p424242"), idB, std::string("") }) {
        INFO(to);
        a->send(protocol::encodeOffer(to, "x"));
        requireError(*a, "unknown-peer");
    }
    CHECK(b->silentFor(100ms));
    CHECK_FALSE(a->isClosed());
}

TEST_CASE("room-full: closed with 4409, hidden members do not count")
{
    rc::signaling::RoomServerConfig config;
    config.rules.maxPeersPerRoom = 2;
    Fixture f(config);
    auto a = f.client();
    auto b = f.client();
    auto h = f.client();
    a->join("small");
    b->join("small");
    // A hidden member does not take a place...
    CHECK_FALSE(h->join("small", std::nullopt, true).empty());
    // ...and a third visible one is refused.
    auto c = f.client();
    c->send(R"({"type":"join","room":"small"})");
    requireError(*c, "room-full");
    CHECK(c->waitClosed() == 4409);
    // Other rooms are unaffected.
    auto d = f.client();
    CHECK_FALSE(d->join("other").empty());
    // A freed place can be taken again.
    b->send(protocol::encodeLeave());
    CHECK(b->waitClosed() == 1000);
    auto e = f.client();
    CHECK_FALSE(e->join("small").empty());
}

TEST_CASE("peer ids are unique for the server's lifetime")
{
    Fixture f;
    std::set<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        auto c = f.client();
        const std::string id = c->join(i % 2 ? "a" : "b");
        REQUIRE_FALSE(id.empty());
        CHECK(ids.insert(id).second);
        c->send(protocol::encodeLeave());
        c->waitClosed();
    }
}

TEST_CASE("tokens: with a secret every join needs a valid HS256 token")
{
    rc::signaling::RoomServerConfig config;
    const std::string secret = "s3cret-key";
    config.rules.secret = secret;
    Fixture f(config);
    const int64_t now = static_cast<int64_t>(std::time(nullptr));

    auto refused = [&](const std::string &join) {
        auto c = f.client();
        c->send(join);
        requireError(*c, "unauthorized");
        CHECK(c->waitClosed() == 4401);
    };
    auto joinText = [](const std::string &room, bool hidden, const std::string &token) {
        return protocol::encodeJoin({ room, std::nullopt, hidden, token });
    };

    SECTION("missing token")
    {
        refused(R"({"type":"join","room":"r"})");
    }
    SECTION("bad signature, expired, other room, hidden without grant, alg none, HS512, garbage")
    {
        refused(joinText("r", false, makeToken("other-key", "r", std::nullopt, now + 60)));
        refused(joinText("r", false, makeToken(secret, "r", std::nullopt, now - 1)));
        refused(joinText("r", false, makeToken(secret, "elsewhere", std::nullopt, now + 60)));
        refused(joinText("r", true, makeToken(secret, "r", std::nullopt, now + 60)));
        refused(joinText("r", true, makeToken(secret, "r", false, now + 60)));
        refused(joinText("r", false, makeToken(secret, "r", std::nullopt, now + 60, "none")));
        refused(joinText("r", false, makeToken(secret, "r", std::nullopt, now + 60, "HS512")));
        refused(joinText("r", false, "not.a.jwt"));
    }
    SECTION("good tokens")
    {
        auto a = f.client();
        CHECK_FALSE(
            a->join("r", "a", false, makeToken(secret, "r", std::nullopt, now + 60)).empty());
        auto b = f.client();
        CHECK_FALSE(
            b->join("r", "b", false, makeToken(secret, "*", std::nullopt, now + 60)).empty());
        auto h = f.client();
        CHECK_FALSE(
            h->join("r", std::nullopt, true, makeToken(secret, "*", true, now + 60)).empty());
        // A hidden grant may still join visibly.
        auto v = f.client();
        CHECK_FALSE(
            v->join("r", std::nullopt, false, makeToken(secret, "r", true, now + 60)).empty());
    }
    SECTION("a malformed join is bad-message before the token is looked at")
    {
        auto c = f.client();
        c->send(R"({"type":"join","room":"no spaces"})");
        requireError(*c, "bad-message");
        CHECK_FALSE(c->isClosed());
    }
}
