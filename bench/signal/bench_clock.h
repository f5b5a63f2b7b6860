// The load client's one clock: CLOCK_MONOTONIC in nanoseconds.
//
// Both ends of every latency sample are read in the load client's own process,
// so no clock is ever compared across processes.
#pragma once

#include <cstdint>
#include <ctime>

namespace rc::bench {

inline uint64_t monotonicNs() noexcept
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

} // namespace rc::bench
