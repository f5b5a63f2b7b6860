// The participant watchdog's decisions: gaps and their causes, ICE restarts on a backoff, and the
// only two ways a participant fails (a first negotiation without media, the grace).
#include "gateway/participant/participant_health.h"

#include <catch2/catch.hpp>

using rc::gateway::ParticipantHealth;
using Gap = ParticipantHealth::Gap;
using Ice = ParticipantHealth::Ice;
using namespace std::chrono_literals;

namespace {

// Seconds on the monotonic clock, as the health class takes them (µs).
ParticipantHealth::Time at(double seconds)
{
    return ParticipantHealth::Time(static_cast<long long>(seconds * 1e6));
}

ParticipantHealth::Media media(double last, std::optional<double> resumed = std::nullopt)
{
    return { at(last), resumed ? std::optional(at(*resumed)) : std::nullopt };
}

// Media timeout 5 s, setup 20 s, first restart after 3 s, restarts 2 s doubling to 30 s,
// grace 600 s (the defaults); started at 0 and connected at 1.
ParticipantHealth connectedHealth(std::chrono::milliseconds grace = 600000ms)
{
    ParticipantHealth::Limits limits;
    limits.grace = grace;
    ParticipantHealth health(limits);
    health.started(at(0));
    health.iceState(Ice::Checking, at(0.5));
    health.iceState(Ice::Connected, at(1));
    return health;
}

std::string describe(const ParticipantHealth::GapChange &c)
{
    char text[64];
    std::snprintf(text, sizeof text, "%s %s %.1f", ParticipantHealth::gapName(c.cause),
        c.started ? "began" : "ended", static_cast<double>(c.at.count()) / 1e6);
    return text;
}

std::vector<std::string> gaps(const ParticipantHealth::Verdict &v)
{
    std::vector<std::string> out;
    for (const auto &c : v.gaps)
        out.push_back(describe(c));
    return out;
}

using Lines = std::vector<std::string>;

} // namespace

TEST_CASE("no media at all fails after the setup timeout, counted from the offer", "[health]")
{
    ParticipantHealth health({});
    health.started(at(100));
    CHECK_FALSE(health.check(at(110), {}).failure);
    CHECK_FALSE(health.check(at(120), {}).failure); // exactly the timeout: not yet
    CHECK(health.check(at(120.001), {}).failure == "no media 20 s after the offer");
    ParticipantHealth::Limits shorter;
    shorter.setupTimeout = 7500ms;
    ParticipantHealth other(shorter);
    other.started(at(0));
    CHECK(other.check(at(8), {}).failure == "no media 7 s after the offer");
    // No restart and no gap before the first media: there is no timeline yet.
    CHECK_FALSE(other.check(at(8), {}).restartIce);
    CHECK(other.check(at(8), {}).gaps.empty());
}

TEST_CASE("media that stops while ICE is connected is a paused sender, never a failure", "[health]")
{
    auto health = connectedHealth();
    CHECK(gaps(health.check(at(10), media(9.9))).empty());
    CHECK(gaps(health.check(at(14), media(9.9))).empty()); // under the media timeout
    auto v = health.check(at(15), media(9.9));
    CHECK(gaps(v) == Lines { "sender-paused began 9.9" }); // dated from the last media
    CHECK_FALSE(v.restartIce);
    CHECK(health.gap() == Gap::SenderPaused);
    // Hours later: still no failure, no restart, no second start.
    v = health.check(at(7200), media(9.9));
    CHECK(v.gaps.empty());
    CHECK_FALSE(v.failure);
    CHECK_FALSE(v.restartIce);
    // The sender is back: the gap ends at its first buffer, not at the check.
    CHECK(gaps(health.check(at(7201), media(7200.9, 7200.2)))
        == Lines { "sender-paused ended 7200.2" });
    CHECK(health.gap() == Gap::None);
}

TEST_CASE(
    "ICE lost with media gone is a network gap and asks for ICE restarts on a backoff", "[health]")
{
    auto health = connectedHealth();
    CHECK(health.check(at(10), media(10)).gaps.empty());
    health.iceState(Ice::Disconnected, at(11));
    // Disconnected, but media arrived a moment ago and not for restartAfter (3 s) yet.
    auto v = health.check(at(12), media(10.5));
    CHECK(v.gaps.empty());
    CHECK_FALSE(v.restartIce);
    v = health.check(at(14.2), media(10.5));
    CHECK(v.restartIce); // disconnected 3.2 s
    CHECK(health.restartsSinceConnected() == 1);
    v = health.check(at(16), media(10.5));
    CHECK(gaps(v) == Lines { "network began 10.5" });
    CHECK_FALSE(v.restartIce); // next one 2 s after the first
    CHECK(health.check(at(16.3), media(10.5)).restartIce);
    CHECK_FALSE(health.check(at(19), media(10.5)).restartIce);
    CHECK(health.check(at(20.4), media(10.5)).restartIce); // then 4 s
    CHECK_FALSE(health.check(at(28), media(10.5)).restartIce);
    CHECK(health.check(at(28.5), media(10.5)).restartIce); // then 8 s
    // The restart worked: ICE connects, media follows; the gap ends at the first buffer.
    CHECK(health.iceState(Ice::Connected, at(30)));
    v = health.check(at(31), media(30.9, 30.4));
    CHECK(gaps(v) == Lines { "network ended 30.4" });
    CHECK_FALSE(v.restartIce);
    CHECK(health.restartsSinceConnected() == 0);
    // The next outage starts the schedule over at 2 s.
    health.iceState(Ice::Failed, at(40));
    CHECK(health.check(at(40.1), media(39.9)).restartIce); // failed: at once
    CHECK_FALSE(health.check(at(41), media(39.9)).restartIce);
    CHECK(health.check(at(42.2), media(39.9)).restartIce);
}

TEST_CASE("restarts never stop while the participant is kept, capped at 30 s apart", "[health]")
{
    auto health = connectedHealth();
    health.check(at(5), media(5));
    health.iceState(Ice::Failed, at(6));
    std::vector<double> times;
    for (double t = 6; t < 400; t += 0.5)
        if (health.check(at(t), media(5)).restartIce)
            times.push_back(t);
    REQUIRE(times.size() >= 15);
    for (size_t i = 1; i < times.size(); ++i)
        CHECK(times[i] - times[i - 1] <= 30.5);
    CHECK(times.back() > 370);
}

TEST_CASE("a sender paused before the network went is a paused gap, then a network gap", "[health]")
{
    auto health = connectedHealth();
    CHECK(gaps(health.check(at(20), media(10))) == Lines { "sender-paused began 10.0" });
    health.iceState(Ice::Disconnected, at(30));
    CHECK(gaps(health.check(at(31), media(10)))
        == Lines { "sender-paused ended 30.0", "network began 30.0" });
    // ICE is back, media not yet: still the network's gap while media may be on its way...
    health.iceState(Ice::Connected, at(40));
    CHECK(health.check(at(43), media(10)).gaps.empty());
    // ...and a paused sender once the connection is up longer than the media timeout.
    CHECK(gaps(health.check(at(45.5), media(10)))
        == Lines { "network ended 40.0", "sender-paused began 40.0" });
}

TEST_CASE("neither media nor a connection for the grace fails; a connection keeps it", "[health]")
{
    auto health = connectedHealth(60000ms);
    health.check(at(10), media(10));
    health.iceState(Ice::Failed, at(12));
    CHECK_FALSE(health.check(at(71), media(10)).failure);
    CHECK(health.check(at(72.5), media(10)).failure == "no media and no connection for 60 s");

    // Connected without media (paused) for longer than the grace: no failure.
    auto paused = connectedHealth(60000ms);
    CHECK_FALSE(paused.check(at(500), media(10)).failure);
    // ICE lost later: the grace counts from the loss, not from the last media.
    paused.iceState(Ice::Disconnected, at(600));
    CHECK_FALSE(paused.check(at(650), media(10)).failure);
    CHECK(paused.check(at(661), media(10)).failure);
}

TEST_CASE("ICE states: coming back is said once, only after a loss", "[health]")
{
    ParticipantHealth health({});
    health.started(at(0));
    CHECK_FALSE(health.connectedOnce());
    CHECK_FALSE(health.iceState(Ice::Connected, at(1))); // the first connection: not "back"
    CHECK(health.connectedOnce());
    CHECK_FALSE(health.iceState(Ice::Connected, at(2))); // completed after connected
    health.iceState(Ice::Disconnected, at(3));
    CHECK(health.iceState(Ice::Connected, at(4)));
    CHECK_FALSE(health.iceState(Ice::Connected, at(5)));
}

TEST_CASE("media flowing and idle time", "[health]")
{
    ParticipantHealth health({});
    health.started(at(100));
    CHECK_FALSE(health.mediaFlowing(at(101), std::nullopt));
    CHECK(health.mediaIdle(at(101.5), std::nullopt) == 1500ms); // since the offer
    CHECK(health.mediaFlowing(at(110), at(106)));
    CHECK(health.mediaIdle(at(110), at(106)) == 4000ms);
    CHECK_FALSE(health.mediaFlowing(at(111), at(106)));
}

TEST_CASE("a link gone silent while ICE still says connected is the network's gap", "[health]")
{
    // libnice notices a dead pair only after its 25 s keepalive; packets tell sooner.
    auto health = connectedHealth();
    ParticipantHealth::Media m { at(10), std::nullopt, at(10) };
    CHECK(health.check(at(10.5), m).gaps.empty());
    auto v = health.check(at(14.5), m); // silent 4.5 s > link timeout 4 s
    CHECK(v.gaps.empty()); // media is not missing for the media timeout yet
    CHECK(v.restartIce); // down 4.5 s since the last packet (>= 3 s)
    v = health.check(at(15.5), m);
    CHECK(gaps(v) == Lines { "network began 10.0" });
    // Packets and media are back (ICE never moved): the gap ends at the first media.
    v = health.check(at(26), { at(25.9), at(25.2), at(25.9) });
    CHECK(gaps(v) == Lines { "network ended 25.2" });
    CHECK(health.restartsSinceConnected() == 0);
}

TEST_CASE("a paused sender whose RTCP still arrives is a paused sender", "[health]")
{
    auto health = connectedHealth();
    CHECK(gaps(health.check(at(16), { at(10), std::nullopt, at(15.5) }))
        == Lines { "sender-paused began 10.0" });
    CHECK_FALSE(health.check(at(40), { at(10), std::nullopt, at(39) }).restartIce);
}

TEST_CASE("a new peer connection: a network gap until its media, the setup timeout, no restarts",
    "[health]")
{
    auto health = connectedHealth();
    health.check(at(10), media(10));
    // The client closed its connection 1 s ago (no gap yet): the gap opens at its last media.
    health.iceState(Ice::Disconnected, at(10.5));
    auto changes = health.newConnection(at(11), at(10));
    REQUIRE(changes.size() == 1);
    CHECK(describe(changes[0]) == "network began 10.0");
    CHECK(health.gap() == Gap::Network);
    // Old media is not the new connection's: the gap goes on, no ICE restart of a connection
    // still being set up, and the grace does not apply.
    auto v = health.check(at(12), media(10));
    CHECK(v.gaps.empty());
    CHECK_FALSE(v.restartIce);
    CHECK_FALSE(v.failure);
    health.iceState(Ice::Connected, at(12.5));
    CHECK(health.check(at(13), media(10)).gaps.empty());
    // Its first media ends the gap where it resumed.
    CHECK(gaps(health.check(at(14), media(13.9, 13.4))) == Lines { "network ended 13.4" });
    CHECK(health.gap() == Gap::None);

    SECTION("a new connection that brings nothing fails after the setup timeout")
    {
        auto other = connectedHealth();
        other.check(at(10), media(10));
        other.newConnection(at(11), at(10));
        CHECK_FALSE(other.check(at(31), media(10)).failure);
        CHECK(other.check(at(31.5), media(10)).failure
            == "no media 20 s after the new connection's offer");
    }
    SECTION("a network gap already open stays the same gap")
    {
        auto other = connectedHealth();
        other.check(at(10), media(10));
        other.iceState(Ice::Failed, at(11));
        CHECK(gaps(other.check(at(16), media(10))) == Lines { "network began 10.0" });
        CHECK(other.newConnection(at(40), at(10)).empty());
        CHECK(other.gap() == Gap::Network);
        CHECK(gaps(other.check(at(45), media(44.9, 44))) == Lines { "network ended 44.0" });
    }
}
