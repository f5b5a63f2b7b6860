// The retry schedule every reconnecting or rebuilding thing uses: a delay that doubles from
// an initial value up to a cap, and starts again after a run long enough to count as healthy.
//
// A plain value owned by the thing that retries; not thread-safe (use it on one thread).
#pragma once

#include <chrono>

namespace rc {

class Backoff
{
public:
    using Clock = std::chrono::steady_clock;

    // initial, 2 x initial, 4 x initial ... up to max. With resetAfter > 0, a failure that
    // comes at least resetAfter after the last started() starts the schedule over.
    Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
        std::chrono::milliseconds resetAfter = std::chrono::milliseconds::zero()) noexcept;

    // An attempt began running now (a connection is up, a pipeline plays).
    void started(Clock::time_point now = Clock::now()) noexcept;
    // A failure: the delay before the next attempt, and one more failure counted.
    std::chrono::milliseconds next(Clock::time_point now = Clock::now()) noexcept;
    // Back to the initial delay (a success that needs no timing, e.g. a join).
    void reset() noexcept { failures_ = 0; }
    unsigned failures() const noexcept { return failures_; }
    // The delay next() would give without counting a failure.
    std::chrono::milliseconds peek() const noexcept;

private:
    std::chrono::milliseconds initial_, max_, resetAfter_;
    unsigned failures_ = 0;
    Clock::time_point startedAt_ {};
    bool running_ = false;
};

} // namespace rc
