// Room membership: welcome contents, announcements, hidden members, routing, limits.
#include "fake_link.h"
#include "signaling/room_registry.h"

#include <catch2/catch.hpp>

#include <set>

using namespace rc;
using rc::signaling::Member;
using rc::signaling::RoomRegistry;
using rc::test::FakeLink;

namespace {

std::string join(RoomRegistry &reg, FakeLink &link, const std::string &room,
    std::optional<std::string> name = std::nullopt, bool hidden = false)
{
    auto r = reg.join(&link, protocol::Join { room, std::move(name), hidden, std::nullopt });
    REQUIRE(std::holds_alternative<const Member *>(r));
    return std::get<const Member *>(r)->id;
}

GPtr<JsonNode> parse(const std::string &text)
{
    std::string error;
    auto n = json::parse(text, error);
    REQUIRE(n);
    return n;
}

size_t peersIn(const std::string &welcome)
{
    auto n = parse(welcome);
    return json_array_get_length(json::arrayMember(json_node_get_object(n.get()), "peers"));
}

bool route(RoomRegistry &reg, const std::string &from, const std::optional<std::string> &to,
    const std::string &text)
{
    auto n = parse(text);
    protocol::Signal s { protocol::Type::offer, to };
    return reg.route(from, s, json_node_get_object(n.get()));
}

} // namespace

TEST_CASE("the first member gets an empty welcome; the next sees it and is announced")
{
    RoomRegistry reg(0);
    FakeLink a, b;
    const std::string idA = join(reg, a, "r", "alice");
    REQUIRE(a.unread() == 1);
    CHECK(a.take()
        == R"({"type":"welcome","id":")" + idA + R"(","room":"r","peers":[],"recording":false})");
    const std::string idB = join(reg, b, "r");
    CHECK(b.take()
        == R"({"type":"welcome","id":")" + idB + R"(","room":"r","peers":[{"id":")" + idA
            + R"(","name":"alice"}],"recording":false})");
    CHECK(a.take() == R"({"type":"peer-joined","peer":{"id":")" + idB + R"(","name":null}})");
    CHECK(reg.roomCount() == 1);
    CHECK(reg.memberCount() == 2);
}

TEST_CASE("ids are unique and never reused")
{
    RoomRegistry reg(0);
    std::set<std::string> ids;
    FakeLink l;
    for (int i = 0; i < 100; ++i) {
        const std::string id = join(reg, l, i % 3 ? "a" : "b");
        CHECK(protocol::isValidPeerId(id));
        CHECK(ids.insert(id).second);
        if (i % 2)
            reg.leave(id);
    }
}

TEST_CASE("hidden members: unlisted, unannounced, recording notices to visible members only")
{
    RoomRegistry reg(0);
    FakeLink a, h1, h2, b;
    join(reg, a, "r", "alice");
    a.take();
    const std::string idH1 = join(reg, h1, "r", std::nullopt, true);
    CHECK(h1.field(h1.take(), "type") == "welcome");
    CHECK(a.take() == R"({"type":"recording","active":true})");
    CHECK(a.unread() == 0);

    const std::string idH2 = join(reg, h2, "r", std::nullopt, true);
    const std::string w2 = h2.take();
    CHECK(peersIn(w2) == 1);
    CHECK(w2.find(idH1) == std::string::npos);
    CHECK(w2.find(R"("recording":true)") != std::string::npos);
    CHECK(a.unread() == 0); // no second notice
    CHECK(h1.unread() == 0); // hidden members never hear of each other

    const std::string idB = join(reg, b, "r", "bob");
    const std::string wb = b.take();
    CHECK(peersIn(wb) == 1);
    CHECK(wb.find(R"("recording":true)") != std::string::npos);
    CHECK(a.takeType() == "peer-joined");
    CHECK(h1.takeType() == "peer-joined");
    CHECK(h2.takeType() == "peer-joined");

    reg.leave(idH1);
    CHECK(a.unread() == 0);
    CHECK(b.unread() == 0);
    CHECK(h2.unread() == 0);
    reg.leave(idH2);
    CHECK(a.take() == R"({"type":"recording","active":false})");
    CHECK(b.take() == R"({"type":"recording","active":false})");

    reg.leave(idB);
    CHECK(a.take() == R"({"type":"peer-left","id":")" + idB + "\"}");
}

TEST_CASE("peer-left goes to every remaining member, hidden ones included")
{
    RoomRegistry reg(0);
    FakeLink a, b, h;
    const std::string idA = join(reg, a, "r");
    join(reg, b, "r");
    join(reg, h, "r", std::nullopt, true);
    a.sent.clear();
    b.sent.clear();
    h.sent.clear();
    FakeLink fresh;
    reg.leave(idA);
    CHECK(b.field(b.sent.at(0), "type") == "peer-left");
    CHECK(h.field(h.sent.at(0), "type") == "peer-left");
    reg.leave("p-unknown"); // ignored
}

TEST_CASE("empty rooms disappear")
{
    RoomRegistry reg(0);
    FakeLink a;
    const std::string id = join(reg, a, "r");
    reg.leave(id);
    CHECK(reg.roomCount() == 0);
    CHECK(reg.memberCount() == 0);
    CHECK(reg.member(id) == nullptr);
}

TEST_CASE("room-full counts visible members only")
{
    RoomRegistry reg(2);
    FakeLink a, b, c, h;
    join(reg, a, "r");
    join(reg, b, "r");
    auto full = reg.join(&c, protocol::Join { "r", std::nullopt, false, std::nullopt });
    REQUIRE(std::holds_alternative<protocol::ErrorCode>(full));
    CHECK(std::get<protocol::ErrorCode>(full) == protocol::ErrorCode::roomFull);
    CHECK(c.unread() == 0);
    join(reg, h, "r", std::nullopt, true);
    join(reg, c, "other");
}

TEST_CASE("routing: addressed, broadcast to visible, unknown peers, other rooms")
{
    RoomRegistry reg(0);
    FakeLink a, b, c, h, x;
    const std::string idA = join(reg, a, "r");
    const std::string idB = join(reg, b, "r");
    const std::string idC = join(reg, c, "r");
    const std::string idH = join(reg, h, "r", std::nullopt, true);
    const std::string idX = join(reg, x, "elsewhere");
    for (auto *l : { &a, &b, &c, &h, &x })
        l->sent.clear();
    const std::string offer
        = R"({"type":"offer","to":"zz","from":"forged","offer":{"type":"offer","sdp":"s"}})";

    SECTION("addressed")
    {
        CHECK(route(reg, idA, idB, offer));
        CHECK(b.field(b.sent.at(0), "from") == idA);
        CHECK(b.sent.at(0).find("\"to\"") == std::string::npos);
        CHECK(a.sent.empty());
        CHECK(c.sent.empty());
        CHECK(route(reg, idA, idH, offer));
        CHECK(h.sent.size() == 1);
    }
    SECTION("broadcast from a visible member")
    {
        CHECK(route(reg, idA, std::nullopt, offer));
        CHECK(b.sent.size() == 1);
        CHECK(c.sent.size() == 1);
        CHECK(a.sent.empty());
        CHECK(h.sent.empty());
        CHECK(x.sent.empty());
    }
    SECTION("broadcast from a hidden member")
    {
        FakeLink h2;
        join(reg, h2, "r", std::nullopt, true);
        h2.sent.clear();
        CHECK(route(reg, idH, std::nullopt, offer));
        for (auto *l : { &a, &b, &c }) {
            REQUIRE(l->sent.size() == 1);
            CHECK(l->sent[0].find(R"("hidden":true)") != std::string::npos);
        }
        CHECK(h.sent.empty());
        CHECK(h2.sent.empty());
    }
    SECTION("unknown or foreign peers")
    {
        CHECK_FALSE(route(reg, idA, std::string("p999"), offer));
        CHECK_FALSE(route(reg, idA, idX, offer));
        CHECK_FALSE(route(reg, "p-not-a-member", idB, offer));
        CHECK(b.sent.empty());
        CHECK(x.sent.empty());
    }
}
