// Per-connection token bucket that bounds how many messages a client may send.
//
// Owned by the connection it limits; thread-bound to that connection's
// GMainContext (it is plain data and takes the time as an argument).
#pragma once

#include <cstdint>

namespace rc::signaling {

struct RateLimit
{
    // The spec asks for at least a 200-message burst and 50 msg/s sustained.
    double burst = 400;
    double perSecond = 100;
    // At most one "rate-limited" answer per this many microseconds; the other
    // dropped messages of the window are counted and reported in the next one.
    int64_t noticeIntervalUs = 500'000;
};

class RateLimiter
{
public:
    explicit RateLimiter(const RateLimit &limit, int64_t nowUs) noexcept;

    // Takes one token; false when the bucket is empty (drop the message).
    bool tryAcquire(int64_t nowUs) noexcept;

    // After a refusal: whether to tell the client now. When true, dropped()
    // is the number of messages dropped since the previous notice (this one
    // included) and the count restarts.
    bool shouldNotify(int64_t nowUs) noexcept;
    uint64_t takeDropped() noexcept;

    double tokens() const noexcept { return tokens_; }

private:
    void refill(int64_t nowUs) noexcept;

    RateLimit limit_;
    double tokens_;
    int64_t lastRefillUs_;
    int64_t lastNoticeUs_ = INT64_MIN;
    uint64_t dropped_ = 0;
};

} // namespace rc::signaling
