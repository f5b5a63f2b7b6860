// Per-message rules without sockets: which error wins, closing codes, rate limit, tokens.
#include "fake_link.h"
#include "signaling/signal_dispatcher.h"

#include <jwt.h>

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace rc;
using rc::signaling::DispatchRules;
using rc::signaling::SignalDispatcher;
using rc::test::FakeLink;

namespace {

struct Harness
{
    int64_t nowUs = 1'000'000;
    int64_t nowSeconds = 1'700'000'000;
    SignalDispatcher d;

    explicit Harness(DispatchRules rules = {})
        : d(rules, signaling::Clock { [this] { return nowUs; }, [this] { return nowSeconds; } })
    { }
    void open(FakeLink &l) { d.opened(&l); }
};

std::string errorCode(FakeLink &l)
{
    const std::string text = l.take();
    INFO(text);
    REQUIRE(l.field(text, "type") == "error");
    return l.field(text, "code");
}

std::string hs256(const std::string &secret, const std::string &room, bool hidden, long exp)
{
    jwt_t *jwt = nullptr;
    jwt_new(&jwt);
    jwt_add_grant(jwt, "room", room.c_str());
    jwt_add_grant_bool(jwt, "hidden", hidden);
    jwt_add_grant_int(jwt, "exp", exp);
    jwt_set_alg(jwt, JWT_ALG_HS256, reinterpret_cast<const unsigned char *>(secret.data()),
        static_cast<int>(secret.size()));
    char *s = jwt_encode_str(jwt);
    std::string out = s;
    std::free(s);
    jwt_free(jwt);
    return out;
}

} // namespace

TEST_CASE("which error wins before join")
{
    Harness h;
    FakeLink c;
    h.open(c);
    // Not an object / unknown type: bad-message.
    for (const char *t : { "x", "[]", R"({"type":"hello"})", R"({"to":"p1"})" }) {
        h.d.text(&c, t);
        CHECK(errorCode(c) == "bad-message");
    }
    // Any other message before join: not-joined, even when malformed, leave included.
    for (const char *t : { R"({"type":"offer"})", R"({"type":"answer","answer":1})",
             R"({"type":"candidate","candidate":null,"to":"p1"})", R"({"type":"leave"})" }) {
        h.d.text(&c, t);
        CHECK(errorCode(c) == "not-joined");
    }
    CHECK_FALSE(c.closeCode);
}

TEST_CASE("which error wins after join")
{
    Harness h;
    FakeLink c;
    h.open(c);
    h.d.text(&c, R"({"type":"join","room":"r"})");
    CHECK(c.takeType() == "welcome");
    for (const char *t : { R"({"type":"join","room":"r"})", R"({"type":"join","room":"x y"})",
             R"({"type":"join"})" }) {
        h.d.text(&c, t);
        CHECK(errorCode(c) == "already-joined");
    }
    h.d.text(&c, R"({"type":"hello"})");
    CHECK(errorCode(c) == "bad-message");
    h.d.text(&c, R"({"type":"offer","to":"p77"})");
    CHECK(errorCode(c) == "bad-message"); // ill-formed beats unknown-peer
    h.d.text(&c, R"({"type":"offer","to":"p77","offer":{"type":"offer","sdp":"x"}})");
    CHECK(errorCode(c) == "unknown-peer");
    CHECK_FALSE(c.closeCode);
}

TEST_CASE("leave: the others hear peer-left, the connection is closed with 1000, then ignored")
{
    Harness h;
    FakeLink a, b;
    h.open(a);
    h.open(b);
    h.d.text(&a, R"({"type":"join","room":"r"})");
    h.d.text(&b, R"({"type":"join","room":"r"})");
    a.sent.clear();
    h.d.text(&b, R"({"type":"leave"})");
    CHECK(b.closeCode == 1000);
    CHECK(a.takeType() == "peer-left");
    h.d.text(&b, R"({"type":"join","room":"r"})");
    CHECK(a.unread() == 0);
    h.d.closed(&b, "closed");
    CHECK(h.d.connectionCount() == 1);
}

TEST_CASE("a closed connection leaves its room")
{
    Harness h;
    FakeLink a, b;
    h.open(a);
    h.open(b);
    h.d.text(&a, R"({"type":"join","room":"r"})");
    h.d.text(&b, R"({"type":"join","room":"r"})");
    a.sent.clear();
    h.d.closed(&b, "closed (1006)");
    CHECK(a.takeType() == "peer-left");
    CHECK(h.d.registry().memberCount() == 1);
    // A dropped connection (dead peer) leaves at once and is ignored afterwards.
    h.d.drop(&a, "timeout");
    CHECK(h.d.registry().memberCount() == 0);
    h.d.text(&a, R"({"type":"leave"})");
    CHECK(a.unread() == 0);
}

TEST_CASE("too-large: answered, then closed with 1009; size counts before anything else")
{
    Harness h;
    FakeLink c;
    h.open(c);
    h.d.text(&c, std::string(protocol::kMaxMessageBytes, ' ')); // at the limit: judged as JSON
    CHECK(errorCode(c) == "bad-message");
    h.d.text(&c, std::string(protocol::kMaxMessageBytes + 1, '['));
    CHECK(errorCode(c) == "too-large");
    CHECK(c.closeCode == 1009);
}

TEST_CASE("binary messages are bad-message and the connection stays open")
{
    Harness h;
    FakeLink c;
    h.open(c);
    h.d.binary(&c, 10);
    CHECK(errorCode(c) == "bad-message");
    CHECK_FALSE(c.closeCode);
    h.d.binary(&c, protocol::kMaxMessageBytes + 1);
    CHECK(errorCode(c) == "too-large");
    CHECK(c.closeCode == 1009);
}

TEST_CASE("rate limit: drop and notify at most once per interval, recover with time")
{
    DispatchRules rules;
    rules.rateLimit = { 5, 1, 500'000 };
    Harness h(rules);
    FakeLink a, b;
    h.open(a);
    h.open(b);
    h.d.text(&a, R"({"type":"join","room":"r"})"); // 1 token
    h.d.text(&b, R"({"type":"join","room":"r"})");
    const std::string idB = b.field(b.sent.at(0), "id");
    a.sent.clear();
    b.sent.clear();
    const std::string msg = R"({"type":"candidate","candidate":null,"to":")" + idB + "\"}";
    for (int i = 0; i < 10; ++i)
        h.d.text(&a, msg);
    CHECK(b.sent.size() == 4);
    REQUIRE(a.sent.size() == 1);
    CHECK(errorCode(a) == "rate-limited");
    CHECK(a.sent.back().find(" 1 message(s)") != std::string::npos);
    CHECK_FALSE(a.closeCode);
    h.nowUs += 600'000; // 0.6 token, past the notice interval
    h.d.text(&a, msg);
    CHECK(errorCode(a) == "rate-limited");
    CHECK(a.sent.back().find(" 6 message(s)") != std::string::npos);
    h.nowUs += 1'000'000;
    h.d.text(&a, msg);
    CHECK(b.sent.size() == 5);
}

TEST_CASE("with a secret: unauthorized closes 4401, good tokens join, bad-message still first")
{
    DispatchRules rules;
    rules.secret = "k";
    Harness h(rules);
    const long exp = h.nowSeconds + 10;
    FakeLink c1, c2, c3, c4, c5;
    for (auto *l : { &c1, &c2, &c3, &c4, &c5 })
        h.open(*l);

    h.d.text(&c1, R"({"type":"join","room":"r"})");
    CHECK(errorCode(c1) == "unauthorized");
    CHECK(c1.closeCode == 4401);
    h.d.text(&c1, R"({"type":"join","room":"r"})"); // ignored once closing
    CHECK(c1.unread() == 0);

    h.d.text(&c2, R"({"type":"join","room":"r","token":")" + hs256("k", "r", false, exp) + "\"}");
    CHECK(c2.takeType() == "welcome");

    h.d.text(&c3,
        R"({"type":"join","room":"r","hidden":true,"token":")" + hs256("k", "r", false, exp)
            + "\"}");
    CHECK(errorCode(c3) == "unauthorized");
    CHECK(c3.closeCode == 4401);

    h.nowSeconds = exp;
    h.d.text(&c4, R"({"type":"join","room":"r","token":")" + hs256("k", "r", false, exp) + "\"}");
    CHECK(errorCode(c4) == "unauthorized");

    h.d.text(&c5, R"({"type":"join","room":"bad room"})");
    CHECK(errorCode(c5) == "bad-message");
    CHECK_FALSE(c5.closeCode);
}

TEST_CASE("room-full closes 4409")
{
    DispatchRules rules;
    rules.maxPeersPerRoom = 1;
    Harness h(rules);
    FakeLink a, b;
    h.open(a);
    h.open(b);
    h.d.text(&a, R"({"type":"join","room":"r"})");
    h.d.text(&b, R"({"type":"join","room":"r"})");
    CHECK(errorCode(b) == "room-full");
    CHECK(b.closeCode == 4409);
    CHECK(a.sent.size() == 1); // only its welcome
}

TEST_CASE("join-timeout: an unjoined connection gets the error and 4408, a joined one nothing")
{
    Harness h;
    FakeLink lazy("lazy"), member("member"), other("other");
    h.open(lazy);
    h.open(member);
    h.open(other);
    // A join refused as malformed does not count as a valid join.
    h.d.text(&lazy, R"({"type":"join","room":"bad room"})");
    CHECK(errorCode(lazy) == "bad-message");
    h.d.text(&member, R"({"type":"join","room":"r"})");
    REQUIRE(member.takeType() == "welcome");
    h.d.text(&other, R"({"type":"join","room":"r"})");
    REQUIRE(other.takeType() == "welcome");
    REQUIRE(member.takeType() == "peer-joined");

    h.d.joinDeadline(&lazy, "too late");
    CHECK(errorCode(lazy) == "join-timeout");
    CHECK(lazy.closeCode == 4408);
    // Nothing it sends afterwards is handled.
    h.d.text(&lazy, R"({"type":"join","room":"r"})");
    CHECK(lazy.unread() == 0);
    CHECK(member.unread() == 0);

    h.d.joinDeadline(&member, "too late");
    CHECK(member.unread() == 0);
    CHECK_FALSE(member.closeCode);
    // A second deadline on the closed one sends nothing more.
    h.d.joinDeadline(&lazy, "too late");
    CHECK(lazy.unread() == 0);
}

TEST_CASE("too-slow: the member leaves its room, gets the error and 1013")
{
    Harness h;
    FakeLink slow("slow"), peer("peer");
    h.open(slow);
    h.open(peer);
    h.d.text(&slow, R"({"type":"join","room":"r"})");
    const std::string welcome = slow.take();
    const std::string id = slow.field(welcome, "id");
    h.d.text(&peer, R"({"type":"join","room":"r"})");
    REQUIRE(peer.takeType() == "welcome");
    REQUIRE(slow.takeType() == "peer-joined");

    h.d.tooSlow(&slow, "queue full");
    CHECK(errorCode(slow) == "too-slow");
    CHECK(slow.closeCode == 1013);
    const std::string left = peer.take();
    CHECK(peer.field(left, "type") == "peer-left");
    CHECK(peer.field(left, "id") == id);
    CHECK(h.d.registry().member(id) == nullptr);
    // Once closing, a second verdict does nothing.
    h.d.tooSlow(&slow, "queue full");
    CHECK(slow.unread() == 0);
    // An unknown link is ignored.
    FakeLink stranger;
    h.d.tooSlow(&stranger, "x");
    h.d.joinDeadline(&stranger, "x");
    CHECK(stranger.sent.empty());
}
