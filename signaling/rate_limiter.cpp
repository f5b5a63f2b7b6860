// Token bucket arithmetic; see rate_limiter.h.
#include "signaling/rate_limiter.h"

#include <algorithm>

namespace rc::signaling {

RateLimiter::RateLimiter(const RateLimit &limit, int64_t nowUs) noexcept
    : limit_(limit)
    , tokens_(limit.burst)
    , lastRefillUs_(nowUs)
{ }

void RateLimiter::refill(int64_t nowUs) noexcept
{
    if (nowUs <= lastRefillUs_)
        return;
    const double elapsedSeconds = static_cast<double>(nowUs - lastRefillUs_) / 1e6;
    tokens_ = std::min(limit_.burst, tokens_ + elapsedSeconds * limit_.perSecond);
    lastRefillUs_ = nowUs;
}

bool RateLimiter::tryAcquire(int64_t nowUs) noexcept
{
    refill(nowUs);
    if (tokens_ >= 1.0) {
        tokens_ -= 1.0;
        return true;
    }
    ++dropped_;
    return false;
}

bool RateLimiter::shouldNotify(int64_t nowUs) noexcept
{
    if (lastNoticeUs_ != INT64_MIN && nowUs - lastNoticeUs_ < limit_.noticeIntervalUs)
        return false;
    lastNoticeUs_ = nowUs;
    return true;
}

uint64_t RateLimiter::takeDropped() noexcept
{
    const uint64_t n = dropped_;
    dropped_ = 0;
    return n;
}

} // namespace rc::signaling
