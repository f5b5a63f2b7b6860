// Hidden members (the gateway) are invisible from every angle, and visible members are told they
// are recorded.
#include "ws_test_support.h"

#include "common/protocol/room_protocol.h"

#include <catch2/catch.hpp>

using namespace rc::test;
namespace protocol = rc::protocol;

namespace {

struct Fixture
{
    TestLoop loop;
    InProcessServer srv { loop };
    std::unique_ptr<WsClient> client()
    {
        auto c = std::make_unique<WsClient>(loop, srv.port());
        REQUIRE(c->connected());
        return c;
    }
};

size_t peerCount(const Msg &welcome)
{
    JsonArray *peers = rc::json::arrayMember(welcome.object(), "peers");
    return peers ? json_array_get_length(peers) : 0;
}

} // namespace

TEST_CASE(
    "a hidden member is never listed or announced, and recording is announced to visible members")
{
    Fixture f;
    auto a = f.client();
    const std::string idA = a->join("standup", "alice");

    auto h = f.client();
    h->send(R"({"type":"join","room":"standup","hidden":true})");
    auto wh = h->next();
    REQUIRE(wh);
    REQUIRE(wh->type() == "welcome");
    const std::string idH = wh->str("id").value_or("");
    CHECK(wh->boolean("recording") == true);
    CHECK(peerCount(*wh) == 1);

    // The visible member learns that it is recorded, not who records it.
    auto rec = a->next();
    REQUIRE(rec);
    CHECK(rec->type() == "recording");
    CHECK(rec->boolean("active") == true);
    CHECK(rec->text.find(idH) == std::string::npos);
    CHECK(a->silentFor(150ms));

    // A later visible member does not see the hidden one, but is told about
    // the recording in its welcome; the hidden member sees the newcomer.
    auto b = f.client();
    b->send(R"({"type":"join","room":"standup","name":"bob"})");
    auto wb = b->next();
    REQUIRE(wb);
    CHECK(wb->boolean("recording") == true);
    CHECK(peerCount(*wb) == 1);
    CHECK(wb->text.find(idH) == std::string::npos);
    const std::string idB = wb->str("id").value_or("");
    auto pjA = a->next();
    REQUIRE(pjA);
    CHECK(pjA->type() == "peer-joined");
    auto pjH = h->next();
    REQUIRE(pjH);
    CHECK(pjH->type() == "peer-joined");
    CHECK(pjH->text.find(idB) != std::string::npos);

    // A second hidden member: no second recording notice, nobody is told.
    auto h2 = f.client();
    h2->send(R"({"type":"join","room":"standup","hidden":true})");
    auto wh2 = h2->next();
    REQUIRE(wh2);
    CHECK(peerCount(*wh2) == 2); // alice and bob, never the other hidden member
    CHECK(wh2->text.find(idH) == std::string::npos);
    CHECK(a->silentFor(150ms));
    CHECK(b->silentFor(10ms));
    CHECK(h->silentFor(10ms));

    // Hidden members leave silently; the last one ends the recording.
    h2->send(protocol::encodeLeave());
    CHECK(h2->waitClosed() == 1000);
    CHECK(a->silentFor(150ms));
    CHECK(b->silentFor(10ms));
    CHECK(h->silentFor(10ms));

    h->close(1000);
    for (auto *rx : { a.get(), b.get() }) {
        auto m = rx->next();
        REQUIRE(m);
        CHECK(m->type() == "recording");
        CHECK(m->boolean("active") == false);
        CHECK(rx->silentFor(100ms)); // and no peer-left for a hidden member
    }
}

TEST_CASE("hidden members get peer-left of visible members but never 'to'-less messages")
{
    Fixture f;
    auto h = f.client();
    const std::string idH = h->join("r", std::nullopt, true);
    auto h2 = f.client();
    h2->join("r", std::nullopt, true);
    auto a = f.client();
    const std::string idA = a->join("r", "alice");
    auto b = f.client();
    const std::string idB = b->join("r", "bob");
    REQUIRE(h->nextOfType("peer-joined"));
    REQUIRE(h->nextOfType("peer-joined"));
    REQUIRE(h2->nextOfType("peer-joined"));
    REQUIRE(h2->nextOfType("peer-joined"));
    REQUIRE(a->nextOfType("peer-joined"));

    SECTION("visible to everyone: only the other visible member")
    {
        a->send(protocol::encodeOffer(std::nullopt, "v=0"));
        auto m = b->next();
        REQUIRE(m);
        CHECK(m->str("from") == idA);
        CHECK_FALSE(m->has("hidden"));
        CHECK(h->silentFor(150ms));
        CHECK(h2->silentFor(10ms));
    }
    SECTION("hidden to everyone: every visible member, marked hidden, no other hidden member")
    {
        h->send(R"({"type":"offer","hidden":false,"offer":{"type":"offer","sdp":"recvonly"}})");
        for (auto *rx : { a.get(), b.get() }) {
            auto m = rx->next();
            REQUIRE(m);
            CHECK(m->type() == "offer");
            CHECK(m->str("from") == idH);
            CHECK(m->boolean("hidden") == true);
        }
        CHECK(h2->silentFor(150ms));
        CHECK(h->silentFor(10ms));
    }
    SECTION("addressed messages reach hidden members and come back marked")
    {
        h->send(protocol::encodeOffer(idA, "recvonly"));
        auto offer = a->next();
        REQUIRE(offer);
        CHECK(offer->boolean("hidden") == true);
        CHECK(offer->str("from") == idH);
        a->send(protocol::encodeAnswer(idH, "sendonly"));
        auto answer = h->next();
        REQUIRE(answer);
        CHECK(answer->type() == "answer");
        CHECK(answer->str("from") == idA);
        CHECK_FALSE(answer->has("hidden"));
        CHECK(b->silentFor(100ms));
    }
    SECTION("a visible member leaving is announced to hidden members too")
    {
        b->send(protocol::encodeLeave());
        for (auto *rx : { a.get(), h.get(), h2.get() }) {
            auto m = rx->next();
            REQUIRE(m);
            CHECK(m->type() == "peer-left");
            CHECK(m->str("id") == idB);
        }
    }
}

TEST_CASE("a hidden member alone in a room, then a visible one joins")
{
    Fixture f;
    auto h = f.client();
    h->send(R"({"type":"join","room":"empty","hidden":true})");
    auto wh = h->next();
    REQUIRE(wh);
    CHECK(wh->boolean("recording") == true);
    CHECK(peerCount(*wh) == 0);

    auto a = f.client();
    a->send(R"({"type":"join","room":"empty"})");
    auto wa = a->next();
    REQUIRE(wa);
    CHECK(wa->boolean("recording") == true);
    CHECK(peerCount(*wa) == 0);
    // No separate recording notice to a member whose welcome already says so.
    CHECK(a->silentFor(150ms));
    REQUIRE(h->nextOfType("peer-joined"));
}
