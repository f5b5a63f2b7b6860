// The participant watchdog's decisions: given times and ICE states, healthy or failed (why).
#include "gateway/participant/participant_health.h"

#include <catch2/catch.hpp>

using rc::gateway::ParticipantHealth;
using namespace std::chrono_literals;

namespace {

// Seconds on the monotonic clock, as the health class takes them (µs).
ParticipantHealth::Time at(double seconds)
{
    return ParticipantHealth::Time(static_cast<long long>(seconds * 1e6));
}

ParticipantHealth started(double seconds, std::chrono::milliseconds media = 5000ms,
    std::chrono::milliseconds setup = 20000ms)
{
    ParticipantHealth health({ media, setup });
    health.started(at(seconds));
    return health;
}

} // namespace

TEST_CASE("no media at all fails after the setup timeout, counted from the offer", "[health]")
{
    auto health = started(100);
    CHECK_FALSE(health.check(at(110), std::nullopt));
    CHECK_FALSE(health.check(at(120), std::nullopt)); // exactly the timeout: not yet
    CHECK(health.check(at(120.001), std::nullopt) == "no media 20 s after the offer");
    CHECK(started(0, 5000ms, 7500ms).check(at(8), std::nullopt) == "no media 7 s after the offer");
}

TEST_CASE("media that stops fails after the media timeout", "[health]")
{
    auto health = started(100);
    CHECK_FALSE(health.check(at(130), at(129)));
    CHECK_FALSE(health.check(at(134), at(129)));
    CHECK(health.check(at(134.5), at(129)) == "no media for 5 s");
    // Media that flowed once never falls back to the setup timeout.
    CHECK(health.check(at(200), at(101)) == "no media for 5 s");
}

TEST_CASE("ICE disconnected for the media timeout fails, even while media arrives", "[health]")
{
    auto health = started(0);
    health.iceDisconnected(at(10));
    health.iceDisconnected(at(13)); // a repeated report keeps the first time
    CHECK_FALSE(health.check(at(14), at(14)));
    CHECK(health.check(at(15.5), at(15.4)) == "ICE disconnected for 5 s");
}

TEST_CASE("ICE that comes back clears the disconnection and says so once", "[health]")
{
    auto health = started(0);
    CHECK_FALSE(health.iceConnected()); // never disconnected: nothing came back
    health.iceDisconnected(at(10));
    CHECK(health.iceConnected());
    CHECK_FALSE(health.iceConnected());
    CHECK_FALSE(health.check(at(30), at(29.9)));
}

TEST_CASE("media flowing and idle time", "[health]")
{
    auto health = started(100);
    CHECK_FALSE(health.mediaFlowing(at(101), std::nullopt));
    CHECK(health.mediaIdle(at(101.5), std::nullopt) == 1500ms); // since the offer
    CHECK(health.mediaFlowing(at(110), at(106)));
    CHECK(health.mediaIdle(at(110), at(106)) == 4000ms);
    CHECK_FALSE(health.mediaFlowing(at(111), at(106)));
}
