// Backoff: doubling from the initial delay to the cap, reset after a healthy run.
#include "common/base/backoff.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using rc::Backoff;

TEST_CASE("Backoff doubles up to its cap and stays there", "[backoff]")
{
    Backoff b(250ms, 2000ms);
    const auto t = Backoff::Clock::time_point {};
    CHECK(b.next(t) == 250ms);
    CHECK(b.next(t) == 500ms);
    CHECK(b.next(t) == 1000ms);
    CHECK(b.next(t) == 2000ms);
    CHECK(b.next(t) == 2000ms);
    for (int i = 0; i < 100; ++i)
        b.next(t); // many failures never overflow
    CHECK(b.next(t) == 2000ms);
    CHECK(b.failures() == 106);
}

TEST_CASE("Backoff starts over after a long enough run, not after a short one", "[backoff]")
{
    Backoff b(1000ms, 30000ms, 10000ms);
    auto t = Backoff::Clock::time_point {} + 1h;
    b.next(t);
    b.next(t);
    CHECK(b.peek() == 4000ms);
    b.started(t);
    CHECK(b.next(t + 3s) == 4000ms); // failed again after 3 s: not healthy
    b.started(t + 10s);
    CHECK(b.next(t + 20s) == 1000ms); // ran 10 s: counts as healthy
    b.reset();
    CHECK(b.failures() == 0);
    CHECK(b.peek() == 1000ms);
}

TEST_CASE("Backoff never waits less than a millisecond or beyond a cap below initial", "[backoff]")
{
    Backoff zero(0ms, 0ms);
    CHECK(zero.next() == 1ms);
    Backoff inverted(500ms, 100ms);
    CHECK(inverted.next() == 500ms);
    CHECK(inverted.next() == 500ms);
}
