// Doubling delays with a cap and a reset after a healthy run; see backoff.h.
#include "common/base/backoff.h"

#include <algorithm>

namespace rc {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
    std::chrono::milliseconds resetAfter) noexcept
    : initial_(std::max(initial, std::chrono::milliseconds(1)))
    , max_(std::max(max, initial_))
    , resetAfter_(resetAfter)
{ }

void Backoff::started(Clock::time_point now) noexcept
{
    startedAt_ = now;
    running_ = true;
}

std::chrono::milliseconds Backoff::peek() const noexcept
{
    auto delay = initial_;
    // Doubling stops at the cap, so no shift can overflow however many failures there were.
    for (unsigned i = 0; i < failures_ && delay < max_; ++i)
        delay *= 2;
    return std::min(delay, max_);
}

std::chrono::milliseconds Backoff::next(Clock::time_point now) noexcept
{
    if (running_ && resetAfter_.count() > 0 && now - startedAt_ >= resetAfter_)
        failures_ = 0;
    running_ = false;
    const auto delay = peek();
    ++failures_;
    return delay;
}

} // namespace rc
