// One benchmark level against a room server: lays members out in rooms,
// drives them from one or more shard threads (each with its own GMainContext)
// on a shared schedule, and merges what the shards measured.
//
// Thread-bound: run() is called on one thread; it starts and joins the shard
// threads itself.
#pragma once

#include "latency_stats.h"
#include "load_plan.h"
#include "load_shard.h"

#include <string>
#include <variant>

namespace rc::bench {

struct LoadResult
{
    LoadOptions options;
    Layout layout;
    double windowS = 0;
    ShardCounters counters;
    uint64_t lost = 0; // sent inside the window, never arrived
    double sendRate = 0;
    double forwardRate = 0;
    LatencySummary latency;
    double clientCpu = -1; // fraction of one core over the window, all threads
    double serverCpu = -1;
    // Fraction of the window spent runnable but waiting for a CPU (other load).
    double clientRunQueueWait = -1;
    double serverRunQueueWait = -1;
    long serverRssKiB = -1; // VmRSS at the window's end
    long serverPeakRssKiB = -1; // VmHWM at the window's end
};

class LoadRun
{
public:
    explicit LoadRun(LoadOptions options);

    // Sets up, measures and tears down; the error is a set-up failure.
    std::variant<LoadResult, std::string> run();

private:
    struct CpuSnapshot
    {
        uint64_t wallNs = 0;
        double clientS = 0;
        double clientWaitS = -1;
        double serverS = -1;
        double serverWaitS = -1;
    };
    CpuSnapshot cpuSnapshot() const;

    const LoadOptions options_;
};

} // namespace rc::bench
