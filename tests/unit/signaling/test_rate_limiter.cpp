// The token bucket: burst, sustained rate, notice throttling.
#include "signaling/rate_limiter.h"

#include <catch2/catch.hpp>

using rc::signaling::RateLimit;
using rc::signaling::RateLimiter;

TEST_CASE("the default limit meets the spec: 200-message burst, 50 msg/s sustained")
{
    RateLimit limit;
    CHECK(limit.burst >= 200);
    CHECK(limit.perSecond >= 50);
    RateLimiter r(limit, 0);
    for (int i = 0; i < 200; ++i)
        REQUIRE(r.tryAcquire(0));
    // 50 msg/s for 60 s on top of the burst, never refused.
    int64_t t = 0;
    for (int i = 0; i < 3000; ++i) {
        t += 20'000;
        REQUIRE(r.tryAcquire(t));
    }
}

TEST_CASE("past the burst, messages are refused until tokens come back")
{
    RateLimit limit { 10, 5, 500'000 };
    RateLimiter r(limit, 1'000'000);
    for (int i = 0; i < 10; ++i)
        CHECK(r.tryAcquire(1'000'000));
    CHECK_FALSE(r.tryAcquire(1'000'000));
    CHECK_FALSE(r.tryAcquire(1'100'000)); // 0.5 token
    CHECK(r.tryAcquire(1'200'000)); // 1 token after 200 ms at 5/s
    CHECK_FALSE(r.tryAcquire(1'200'000));
    // The bucket never holds more than the burst.
    for (int i = 0; i < 10; ++i)
        CHECK(r.tryAcquire(100'000'000));
    CHECK_FALSE(r.tryAcquire(100'000'000));
}

TEST_CASE("a clock going backwards does not mint tokens")
{
    RateLimiter r(RateLimit { 1, 1, 0 }, 5'000'000);
    CHECK(r.tryAcquire(5'000'000));
    CHECK_FALSE(r.tryAcquire(1'000'000));
    CHECK_FALSE(r.tryAcquire(5'000'000));
}

TEST_CASE("notices are throttled and report how many messages were dropped")
{
    RateLimiter r(RateLimit { 1, 1, 500'000 }, 0);
    CHECK(r.tryAcquire(0));
    CHECK_FALSE(r.tryAcquire(0));
    CHECK(r.shouldNotify(0));
    CHECK(r.takeDropped() == 1);
    for (int i = 0; i < 5; ++i) {
        CHECK_FALSE(r.tryAcquire(100'000));
        CHECK_FALSE(r.shouldNotify(100'000));
    }
    CHECK_FALSE(r.tryAcquire(600'000 - 1)); // 0.6 token
    CHECK(r.shouldNotify(600'000));
    CHECK(r.takeDropped() == 6);
    CHECK(r.takeDropped() == 0);
}
