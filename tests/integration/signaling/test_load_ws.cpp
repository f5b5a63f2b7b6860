// Load: 20 rooms x 10 members, each sending 200 addressed messages; all arrive once, in order per
// pair.
#include "ws_test_support.h"

#include "common/protocol/room_protocol.h"

#include <catch2/catch.hpp>

#include <map>

using namespace rc::test;
namespace protocol = rc::protocol;

TEST_CASE("20 rooms x 10 members x 200 addressed messages: none lost, none duplicated, in order")
{
    constexpr int kRooms = 20, kMembers = 10, kMessages = 200;
    TestLoop loop;
    InProcessServer srv(loop);

    struct Member
    {
        std::unique_ptr<WsClient> ws;
        std::string id;
        int room = 0;
    };
    std::vector<Member> members;
    members.reserve(kRooms * kMembers);
    for (int r = 0; r < kRooms; ++r) {
        for (int m = 0; m < kMembers; ++m) {
            Member mem;
            mem.ws = std::make_unique<WsClient>(loop, srv.port());
            REQUIRE(mem.ws->connected());
            mem.id = mem.ws->join("load-" + std::to_string(r), "m" + std::to_string(m));
            REQUIRE_FALSE(mem.id.empty());
            mem.room = r;
            members.push_back(std::move(mem));
        }
    }
    // Drop the peer-joined announcements.
    loop.runFor(200ms);
    for (auto &m : members)
        while (m.ws->next(0ms)) { }

    // Member i of a room sends message k to member (i + 1 + k % 9) of its room,
    // with a sequence number per (sender, receiver) pair.
    std::map<std::pair<std::string, std::string>, int> sentPerPair;
    for (int k = 0; k < kMessages; ++k) {
        for (int r = 0; r < kRooms; ++r) {
            for (int i = 0; i < kMembers; ++i) {
                Member &from = members[r * kMembers + i];
                Member &to = members[r * kMembers + (i + 1 + k % (kMembers - 1)) % kMembers];
                int seq = sentPerPair[{ from.id, to.id }]++;
                from.ws->send(R"({"type":"candidate","to":")" + to.id + R"(","seq":)"
                    + std::to_string(seq) + R"(,"candidate":null})");
            }
        }
        // Let the server keep up a little (this is well within the burst).
        if (k % 20 == 19)
            g_main_context_iteration(loop.context(), FALSE);
    }

    const size_t expected = static_cast<size_t>(kRooms) * kMembers * kMessages;
    size_t received = 0;
    bool ok = true;
    std::map<std::pair<std::string, std::string>, int> nextSeq;
    auto drain = [&] {
        for (auto &m : members) {
            while (m.ws->pending() > 0) {
                auto msg = m.ws->next(0ms);
                if (!msg)
                    break;
                auto from = msg->str("from");
                auto seq = rc::json::intMember(msg->object(), "seq");
                if (msg->type() != "candidate" || !from || !seq) {
                    UNSCOPED_INFO("unexpected: " << msg->text);
                    ok = false;
                    continue;
                }
                int &want = nextSeq[{ *from, m.id }];
                if (*seq != want) {
                    UNSCOPED_INFO(
                        "pair " << *from << "->" << m.id << " got " << *seq << " want " << want);
                    ok = false;
                }
                want = static_cast<int>(*seq) + 1;
                ++received;
            }
        }
        return received >= expected || !ok;
    };
    REQUIRE(loop.until(drain, 60s));
    CHECK(ok);
    CHECK(received == expected);
    for (const auto &[pair, count] : sentPerPair)
        CHECK(nextSeq[pair] == count);
    // Nothing more (no duplicates, no errors such as rate-limited).
    loop.runFor(300ms);
    size_t extra = 0;
    for (auto &m : members)
        extra += m.ws->pending();
    CHECK(extra == 0);
}
