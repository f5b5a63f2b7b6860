// Membership: the room's join/leave/rejoin/retry decisions, driven event by event.
#include "gateway/room/membership.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using rc::gateway::Membership;
using rc::gateway::MembershipCommands;
using rc::protocol::PeerInfo;

namespace {

template <typename... F> struct Overloaded : F...
{
    using F::operator()...;
};
template <typename... F> Overloaded(F...) -> Overloaded<F...>;

std::string nameOf(const std::optional<std::string> &name)
{
    return name ? *name : "-";
}

// One line per command, so that a test states the whole sequence and its order.
std::vector<std::string> text(const MembershipCommands &commands)
{
    using namespace rc::gateway::membership;
    std::vector<std::string> out;
    for (const auto &command : commands)
        out.push_back(std::visit(
            Overloaded {
                [](const StartReceiver &c) {
                    return "start " + std::to_string(c.serial) + " " + c.peerId + " "
                        + nameOf(c.name);
                },
                [](const Reattach &c) {
                    return "reattach " + std::to_string(c.serial) + " " + c.from + " -> " + c.to;
                },
                [](const Detach &c) {
                    return "detach " + std::to_string(c.serial) + " " + c.peerId + " (" + c.why
                        + ")";
                },
                [](const Finish &c) {
                    return std::string(c.detach ? "finish " : "finish-attached ")
                        + std::to_string(c.serial) + " (" + c.reason + ")";
                },
                [](const Reconnect &c) {
                    return "reconnect " + std::to_string(c.serial) + " " + c.peerId + " in "
                        + std::to_string(c.delay.count()) + " ms (" + c.reason + ")";
                },
                [](const ScheduleRecheck &c) {
                    std::string s = "recheck";
                    for (unsigned serial : c.serials)
                        s += " " + std::to_string(serial);
                    return s + " in " + std::to_string(c.delay.count()) + " ms";
                },
                [](const CancelRecheck &) { return std::string("cancel-recheck"); },
                [](const ScheduleRetry &c) {
                    return "retry " + c.peerId + " in " + std::to_string(c.delay.count()) + " ms";
                },
                [](const CancelRetry &c) { return "cancel-retry " + c.peerId; },
                [](const MemberJoined &c) {
                    return std::string(c.announce ? "joined " : "still ") + c.peerId + " "
                        + nameOf(c.name);
                },
                [](const MemberLeft &c) { return "left " + c.peerId; },
            },
            command));
    return out;
}

using Lines = std::vector<std::string>;

PeerInfo peer(std::string id, std::optional<std::string> name)
{
    return PeerInfo { std::move(id), std::move(name) };
}

} // namespace

TEST_CASE("The first welcome makes every listed peer a member and offers to each", "[membership]")
{
    Membership m;
    CHECK(text(m.welcome({ peer("a", "alice"), peer("b", std::nullopt) }))
        == Lines { "joined a alice", "start 1 a alice", "joined b -", "start 2 b -" });
    CHECK(m.attachedTo("a") == 1u);
    CHECK(m.attachedTo("b") == 2u);
    CHECK(!m.attachedTo("c"));
    CHECK(m.members().size() == 2);

    SECTION("an empty room: nothing to do")
    {
        Membership empty;
        CHECK(empty.welcome({}).empty());
        CHECK(empty.members().empty());
    }
}

TEST_CASE("A rejoin keeps the receivers of unchanged members, re-attaches a member under its new "
          "id by name, and detaches the others",
    "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice"), peer("b", "bob"), peer("d", "dan") });

    // The room server restarted: ids are handed out anew. "a" is alice again, "b" now names
    // carol, bob came back as "c"; dan is not back.
    CHECK(text(m.welcome({ peer("a", "alice"), peer("b", "carol"), peer("c", "bob") }))
        == Lines {
            // bob's client may have kept its connection to us: same receiver, same files;
            // rechecked like alice's in case it closed it after all.
            "reattach 2 b -> c",
            // dan may be back later (we were quicker): his receiver waits for a member of his
            // name while it records what still comes.
            "detach 3 d (not in the room's new peer list yet; its connection may come back)",
            "recheck 1 2 in 1000 ms",
            "left b",
            "left d",
            "still a alice", // no second offer, no second presence
            "joined b carol",
            "start 4 b carol",
            "joined c bob",
        });
    CHECK(m.attachedTo("a") == 1u);
    CHECK(m.attachedTo("b") == 4u);
    CHECK(m.attachedTo("c") == 2u);
    CHECK(!m.receivers().at(3).attached);
    REQUIRE(m.receivers().size() == 4); // the detached one records while its media flows
    // bob's client had closed its connection: the recheck finishes it and offers to his new id.
    CHECK(text(m.recheckAfterRejoin({ 2 }))
        == Lines { "finish 2 (its media stopped during the signaling outage)", "start 5 c bob" });

    SECTION("an unnamed member is the same member only while it stays unnamed")
    {
        Membership n;
        n.welcome({ peer("x", std::nullopt) });
        CHECK(text(n.welcome({ peer("x", "xavier") }))
            == Lines {
                "detach 1 x (not in the room's new peer list yet; its connection may come back)",
                "left x", "joined x xavier", "start 2 x xavier" });
    }

    SECTION("a room left empty: every receiver is detached, every member left")
    {
        CHECK(text(m.welcome({}))
            == Lines {
                "detach 1 a (not in the room's new peer list yet; its connection may come back)",
                "detach 4 b (not in the room's new peer list yet; its connection may come back)",
                "detach 5 c (not in the room's new peer list yet; its connection may come back)",
                "left a", "left b", "left c" });
        CHECK(m.members().empty());
    }

    SECTION("no kept receiver: no recheck")
    {
        Membership n;
        n.welcome({ peer("a", "alice") });
        CHECK(text(n.welcome({ peer("a", "anna") }))
            == Lines {
                "detach 1 a (not in the room's new peer list yet; its connection may come back)",
                "left a", "joined a anna", "start 2 a anna" });
    }
}

TEST_CASE("The recheck after a rejoin finishes kept receivers without media that cannot "
          "reconnect and offers anew",
    "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice"), peer("b", "bob") });
    CHECK(text(m.welcome({ peer("a", "alice"), peer("b", "bob") }))
        == Lines { "recheck 1 2 in 1000 ms", "still a alice", "still b bob" });

    // a's media stopped during the outage (its client dropped us); b's still flows.
    CHECK(text(m.recheckAfterRejoin({ 1 }))
        == Lines { "finish 1 (its media stopped during the signaling outage)", "start 3 a alice" });
    CHECK(m.attachedTo("a") == 3u);
    CHECK(m.attachedTo("b") == 2u);

    SECTION("a receiver no longer attached by then is left alone")
    {
        m.peerLeft("b");
        CHECK(m.recheckAfterRejoin({ 2 }).empty());
    }
    SECTION("a receiver gone by then is left alone")
    {
        m.receiverFinished(2);
        CHECK(m.recheckAfterRejoin({ 2 }).empty());
    }
    SECTION("a member waiting for its retry is not offered to twice")
    {
        Membership n;
        n.welcome({ peer("a", "alice"), peer("b", "bob") });
        n.receiverFailed(2, "ICE failed"); // b: retry pending
        n.welcome({ peer("a", "alice"), peer("b", "bob") });
        CHECK(text(n.recheckAfterRejoin({ 1 }))
            == Lines {
                "finish 1 (its media stopped during the signaling outage)", "start 3 a alice" });
        CHECK(n.members().at("b").retryPending);
    }
}

TEST_CASE("The recheck after a rejoin reconnects a kept receiver that had media, in place",
    "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice"), peer("b", "bob") });
    m.welcome({ peer("a", "alice"), peer("b", "bob") });
    // a's client closed its connection to us when our signaling dropped; a had media.
    CHECK(text(m.recheckAfterRejoin({ 1 }, { 1 }))
        == Lines { "reconnect 1 a in 0 ms (its media stopped during the signaling outage)" });
    CHECK(m.attachedTo("a") == 1u); // same receiver: same files
    CHECK(m.receivers().size() == 2);

    SECTION("only the receivers whose media stopped: a reconnectable one still flowing is kept")
    {
        Membership n;
        n.welcome({ peer("a", "alice"), peer("b", "bob") });
        n.welcome({ peer("a", "alice"), peer("b", "bob") });
        CHECK(text(n.recheckAfterRejoin({ 1 }, { 1, 2 }))
            == Lines { "reconnect 1 a in 0 ms (its media stopped during the signaling outage)" });
        CHECK(n.attachedTo("b") == 2u);
    }
    SECTION("it fails later: the same receiver reconnects again after the backoff")
    {
        CHECK(text(m.receiverFailed(1, "no media", true))
            == Lines { "reconnect 1 a in 1000 ms (no media)" });
        CHECK(m.attachedTo("a") == 1u);
    }
}

TEST_CASE("A failed receiver that had media reconnects in place while its member is listed",
    "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice"), peer("b", "bob") });
    std::vector<long long> delays;
    for (int i = 0; i < 7; ++i) {
        auto commands = text(m.receiverFailed(1, "ICE failed", true));
        REQUIRE(commands.size() == 1);
        CHECK(commands[0].rfind("reconnect 1 a in ", 0) == 0);
        delays.push_back(std::stoll(commands[0].substr(17)));
        CHECK(m.attachedTo("a") == 1u);
        CHECK(!m.members().at("a").retryPending);
    }
    // The same backoff as a replaced receiver's, reset by media.
    CHECK(delays == std::vector<long long> { 1000, 2000, 4000, 8000, 16000, 30000, 30000 });
    m.outputStarted("a");
    CHECK(text(m.receiverFailed(1, "no media", true))
        == Lines { "reconnect 1 a in 1000 ms (no media)" });

    SECTION("its member leaves before the reconnection: finished as any")
    {
        CHECK(text(m.peerLeft("a")) == Lines { "left a", "finish 1 (left the room)" });
        CHECK(!m.attachedTo("a"));
    }
    SECTION("a receiver that cannot reconnect is replaced as before")
    {
        CHECK(text(m.receiverFailed(2, "pipeline error"))
            == Lines { "finish 2 (pipeline error)", "retry b in 1000 ms" });
    }
    SECTION("a detached receiver is finished, never reconnected")
    {
        m.peerJoined(peer("a", "anna")); // a names someone else now: 1 detached
        CHECK(text(m.receiverFailed(1, "detached and its media stopped", true))
            == Lines { "finish 1 (detached and its media stopped)" });
    }
    SECTION("a member that is gone: finished")
    {
        m.welcome({ peer("b", "bob") });
        CHECK(text(m.receiverFailed(1, "no media", true)) == Lines { "finish 1 (no media)" });
    }
    SECTION("the room stops: finished")
    {
        m.stop();
        CHECK(text(m.receiverFailed(1, "no media", true)) == Lines { "finish 1 (no media)" });
        CHECK(m.attachedTo("a") == std::nullopt);
    }
}

TEST_CASE("A peer that leaves ends its presence and finishes its receiver", "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice"), peer("b", "bob") });
    CHECK(text(m.peerLeft("a")) == Lines { "left a", "finish 1 (left the room)" });
    CHECK(!m.attachedTo("a"));
    CHECK(m.members().count("a") == 0);
    CHECK(m.attachedTo("b") == 2u);

    SECTION("an unknown id: nothing")
    {
        CHECK(m.peerLeft("zz").empty());
    }
    SECTION("its pending retry is dropped")
    {
        m.receiverFailed(2, "no media");
        CHECK(text(m.peerLeft("b")) == Lines { "cancel-retry b", "left b" });
    }
    SECTION("its receiver finishing later changes nothing else")
    {
        m.receiverFinished(1);
        CHECK(m.receivers().count(1) == 0);
        CHECK(m.receiverFailed(1, "late").empty());
        CHECK(m.retryDue("a").empty());
    }
}

TEST_CASE(
    "A failed receiver is replaced with a growing backoff, capped, reset by media", "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice") });
    unsigned serial = 1;
    std::vector<long long> delays;
    for (int i = 0; i < 7; ++i) {
        auto commands = text(m.receiverFailed(serial, "ICE failed"));
        REQUIRE(commands.size() == 2);
        CHECK(commands[0] == "finish " + std::to_string(serial) + " (ICE failed)");
        CHECK(commands[1].rfind("retry a in ", 0) == 0);
        delays.push_back(std::stoll(commands[1].substr(11)));
        CHECK(!m.attachedTo("a"));
        CHECK(m.members().at("a").retryPending);
        ++serial;
        CHECK(text(m.retryDue("a")) == Lines { "start " + std::to_string(serial) + " a alice" });
        CHECK(!m.members().at("a").retryPending);
    }
    CHECK(delays == std::vector<long long> { 1000, 2000, 4000, 8000, 16000, 30000, 30000 });
    CHECK(m.members().at("a").retry.failures() == 7);

    // An output of alice got its first buffer: the next failure waits 1 s again.
    m.outputStarted("a");
    CHECK(text(m.receiverFailed(serial, "no media"))
        == Lines { "finish " + std::to_string(serial) + " (no media)", "retry a in 1000 ms" });

    SECTION("a retry that comes due for a member no longer there does nothing")
    {
        m.peerLeft("a");
        CHECK(m.retryDue("a").empty());
    }
    SECTION("a member that came back with the same name keeps its schedule and its retry")
    {
        CHECK(text(m.welcome({ peer("a", "alice") })) == Lines { "still a alice" });
        CHECK(m.members().at("a").retry.failures() == 1);
        CHECK(text(m.retryDue("a")) == Lines { "start 9 a alice" });
    }
    SECTION("a new member under the same id voids the retry and starts afresh")
    {
        CHECK(text(m.peerJoined(peer("a", "anna")))
            == Lines { "cancel-retry a", "joined a anna", "start 9 a anna" });
        CHECK(m.members().at("a").retry.failures() == 0);
    }
    SECTION("a rejoin that lists someone else under the id voids the retry")
    {
        CHECK(text(m.welcome({ peer("a", "anna") }))
            == Lines { "cancel-retry a", "left a", "joined a anna", "start 9 a anna" });
    }
}

TEST_CASE("A failure without a retry: detached receivers and departed peers", "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice"), peer("b", "bob") });
    m.welcome({ peer("a", "anna") }); // server restart: 1 and 2 detached, anna on 3

    // The detached receivers record until their media stops or ICE fails: then just finish.
    CHECK(text(m.receiverFailed(1, "ICE failed")) == Lines { "finish 1 (ICE failed)" });
    CHECK(text(m.receiverFailed(2, "no media")) == Lines { "finish 2 (no media)" });
    CHECK(m.attachedTo("a") == 3u);
    CHECK(m.receiverFailed(42, "unknown").empty());
}

TEST_CASE("A peer-joined for an id that has a receiver detaches it first", "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice") });
    CHECK(text(m.peerJoined(peer("a", "anna")))
        == Lines {
            "detach 1 a (its id now names a new member)", "joined a anna", "start 2 a anna" });
    CHECK(m.attachedTo("a") == 2u);
    CHECK(!m.receivers().at(1).attached);

    // Messages for "a" now go to 2; the detached one finishes on its own.
    m.receiverFinished(1);
    CHECK(m.attachedTo("a") == 2u);
    CHECK(m.receivers().size() == 1);
}

TEST_CASE("A receiver that could not start is no one's attachment", "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice") });
    m.receiverStartFailed(1);
    CHECK(!m.attachedTo("a"));
    // Still listed at a rejoin: it is looked at again, and finishing, not offered to anew.
    CHECK(text(m.welcome({ peer("a", "alice") }))
        == Lines { "recheck 1 in 1000 ms", "still a alice", "start 2 a alice" });
    CHECK(m.recheckAfterRejoin({ 1 }).empty());
}

TEST_CASE("Stop finishes every receiver and ends retries; later events do nothing", "[membership]")
{
    Membership m;
    m.welcome({ peer("a", "alice"), peer("b", "bob"), peer("c", "carol") });
    m.receiverFailed(2, "ICE failed"); // b waits for a retry
    // A rejoin: a kept (recheck pending), b kept waiting, 3 detached, cora on 4.
    m.welcome({ peer("a", "alice"), peer("b", "bob"), peer("c", "cora") });

    CHECK(text(m.stop())
        == Lines { "cancel-recheck", "cancel-retry b", "finish-attached 1 (gateway stopping)",
            "finish-attached 2 (gateway stopping)", "finish-attached 3 (gateway stopping)",
            "finish-attached 4 (gateway stopping)" });
    CHECK(m.stopping());
    CHECK(m.stop().empty());
    CHECK(m.welcome({ peer("d", "dave") }).empty());
    CHECK(m.peerJoined(peer("d", "dave")).empty());
    CHECK(m.recheckAfterRejoin({ 1 }).empty());
    CHECK(m.retryDue("b").empty());
    // A failure while stopping finishes, never retries.
    CHECK(text(m.receiverFailed(4, "ICE failed")) == Lines { "finish 4 (ICE failed)" });
    // Peers still leave (the manifest ends their presence).
    CHECK(text(m.peerLeft("a")) == Lines { "left a" });
    for (unsigned s : { 1u, 2u, 3u, 4u })
        m.receiverFinished(s);
    CHECK(m.receivers().empty());
}

TEST_CASE("A receiver is away at a rejoin when its media stopped before our signaling dropped",
    "[membership]")
{
    // Our signaling dropped 2 s ago.
    CHECK(Membership::awayAtRejoin(9000ms, 2000ms)); // an outage 7 s before the drop
    CHECK(Membership::awayAtRejoin(3100ms, 2000ms));
    // Stopped at the drop, give or take the lead: the client closed its connection to us.
    CHECK(!Membership::awayAtRejoin(3000ms, 2000ms));
    CHECK(!Membership::awayAtRejoin(2050ms, 2000ms));
    CHECK(!Membership::awayAtRejoin(20ms, 2000ms)); // media flows
}

TEST_CASE(
    "A rejoin during a participant's outage keeps its receiver for its current id", "[membership]")
{
    Membership m;
    m.welcome({ peer("p2", "chromium"), peer("p3", "dora") });

    SECTION("new ids after a room-server restart: re-attached by name, no offer")
    {
        CHECK(text(m.welcome({ peer("p1", "chromium"), peer("p2", "dora") }, { 1 }))
            == Lines {
                "reattach 1 p2 -> p1",
                "reattach 2 p3 -> p2", // dora's media flows: re-attached too, and rechecked
                "recheck 2 in 1000 ms",
                "left p2", // ids are the server's: a presence per id
                "left p3",
                "joined p1 chromium",
                "joined p2 dora",
            });
        CHECK(m.attachedTo("p1") == 1u);
        CHECK(m.receivers().at(1).peerId == "p1");
        CHECK(m.receivers().at(1).attached);

        // Its connection never came back: finished, and offered to anew under its current id.
        CHECK(text(m.receiverFailed(1, "its connection did not come back"))
            == Lines { "finish 1 (its connection did not come back)", "retry p1 in 1000 ms" });
        CHECK(text(m.retryDue("p1")) == Lines { "start 3 p1 chromium" });
        CHECK(text(m.peerLeft("p1")) == Lines { "left p1", "finish 3 (left the room)" });
    }
    SECTION("its member's departure under the new id finishes it")
    {
        m.welcome({ peer("p1", "chromium") }, { 1 });
        CHECK(text(m.peerLeft("p1")) == Lines { "left p1", "finish 1 (left the room)" });
    }
    SECTION("same id and name: kept, but not rechecked (its media stopped before the drop)")
    {
        CHECK(text(m.welcome({ peer("p2", "chromium"), peer("p3", "dora") }, { 1 }))
            == Lines { "recheck 2 in 1000 ms", "still p2 chromium", "still p3 dora" });
        CHECK(m.attachedTo("p2") == 1u);
        // Had it been rechecked, it would be finished; away, the recheck never names it.
        CHECK(m.recheckAfterRejoin({}).empty());
        CHECK(m.attachedTo("p2") == 1u);
    }
    SECTION("not away (its media stopped with the drop or flows): re-attached and rechecked")
    {
        CHECK(text(m.welcome({ peer("p1", "chromium") }))
            == Lines { "reattach 1 p2 -> p1",
                "detach 2 p3 (not in the room's new peer list yet; its connection may come back)",
                "recheck 1 in 1000 ms", "left p2", "left p3", "joined p1 chromium" });
        // Its client closed the connection with the drop: the recheck offers anew.
        CHECK(text(m.recheckAfterRejoin({ 1 }))
            == Lines { "finish 1 (its media stopped during the signaling outage)",
                "start 3 p1 chromium" });
    }
    SECTION("a name that picks two newcomers picks none")
    {
        CHECK(text(m.welcome({ peer("p1", "chromium"), peer("p4", "chromium") }, { 1 }))
            == Lines { "detach 1 p2 (not in the room's new peer list)",
                "detach 2 p3 (not in the room's new peer list yet; its connection may come back)",
                "left p2", "left p3", "joined p1 chromium", "start 3 p1 chromium",
                "joined p4 chromium", "start 4 p4 chromium" });
    }
    SECTION("two away receivers of one name: neither is re-attached")
    {
        Membership n;
        n.welcome({ peer("a", std::nullopt), peer("b", std::nullopt) });
        CHECK(text(n.welcome({ peer("c", std::nullopt) }, { 1, 2 }))
            == Lines { "detach 1 a (not in the room's new peer list)",
                "detach 2 b (not in the room's new peer list)", "left a", "left b", "joined c -",
                "start 3 c -" });
    }
    SECTION("its client not back yet at the rejoin: it waits; the member's peer-joined takes it")
    {
        CHECK(text(m.welcome({}, { 1 }))
            == Lines { "detach 1 p2 (not in the room's new peer list yet; its connection may "
                       "come back)",
                "detach 2 p3 (not in the room's new peer list yet; its connection may come back)",
                "left p2", "left p3" });
        CHECK(m.receivers().at(1).waiting);
        CHECK(!m.attachedTo("p2"));
        // dora's media flowed at the drop: re-attached, and rechecked in case her client
        // closed its connection with the drop.
        CHECK(text(m.peerJoined(peer("p4", "dora")))
            == Lines { "joined p4 dora", "reattach 2 p3 -> p4", "recheck 2 in 1000 ms" });
        CHECK(text(m.peerJoined(peer("p2", "chromium")))
            == Lines { "joined p2 chromium", "reattach 1 p2 -> p2" });
        CHECK(m.attachedTo("p2") == 1u);
        CHECK(!m.receivers().at(1).waiting);
        // Taken: the next member of that name is someone else.
        CHECK(text(m.peerJoined(peer("p5", "chromium")))
            == Lines { "joined p5 chromium", "start 3 p5 chromium" });
    }
    SECTION("a later rejoin that lists its member re-attaches a waiting receiver")
    {
        m.welcome({}, { 1 });
        CHECK(text(m.welcome({ peer("p9", "chromium") }))
            == Lines { "reattach 1 p2 -> p9", "joined p9 chromium" });
        CHECK(m.attachedTo("p9") == 1u);
    }
    SECTION("a waiting receiver that fails just finishes; its member then gets a new one")
    {
        m.welcome({}, { 1 });
        CHECK(text(m.receiverFailed(1, "its connection did not come back"))
            == Lines { "finish 1 (its connection did not come back)" });
        CHECK(text(m.peerJoined(peer("p2", "chromium")))
            == Lines { "joined p2 chromium", "start 3 p2 chromium" });
    }
    SECTION("two waiting receivers of one name: a newcomer of that name gets its own")
    {
        Membership n;
        n.welcome({ peer("a", std::nullopt), peer("b", std::nullopt) });
        n.welcome({}, { 1, 2 });
        CHECK(text(n.peerJoined(peer("c", std::nullopt))) == Lines { "joined c -", "start 3 c -" });
        CHECK(text(n.stop())
            == Lines { "cancel-recheck", "finish-attached 1 (gateway stopping)",
                "finish-attached 2 (gateway stopping)", "finish-attached 3 (gateway stopping)" });
    }
    SECTION("a listed member already known under its id is not a newcomer")
    {
        Membership n;
        n.welcome({ peer("p2", "chromium"), peer("p3", "chromium") });
        n.receiverFailed(2, "ICE failed"); // p3 waits for its retry
        CHECK(text(n.welcome({ peer("p3", "chromium"), peer("p5", "chromium") }, { 1 }))
            == Lines {
                "reattach 1 p2 -> p5", "left p2", "still p3 chromium", "joined p5 chromium" });
        CHECK(n.attachedTo("p5") == 1u);
        CHECK(n.members().at("p3").retryPending);
    }
}
