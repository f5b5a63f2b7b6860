// Nearest-rank percentiles of the recorded latencies; see latency_stats.h.
#include "latency_stats.h"

#include <algorithm>
#include <cmath>

namespace rc::bench {
namespace {

double percentileUs(const std::vector<uint64_t> &sorted, double p)
{
    // Nearest rank: the smallest sample with at least p of the samples at or below it.
    const auto n = static_cast<double>(sorted.size());
    auto rank = static_cast<size_t>(std::ceil(p * n));
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return static_cast<double>(sorted[rank - 1]) / 1000.0;
}

} // namespace

LatencySummary LatencyStats::summarize()
{
    LatencySummary s;
    s.count = samplesNs_.size();
    if (samplesNs_.empty())
        return s;
    std::sort(samplesNs_.begin(), samplesNs_.end());
    s.p50Us = percentileUs(samplesNs_, 0.50);
    s.p90Us = percentileUs(samplesNs_, 0.90);
    s.p99Us = percentileUs(samplesNs_, 0.99);
    s.p999Us = percentileUs(samplesNs_, 0.999);
    s.maxUs = static_cast<double>(samplesNs_.back()) / 1000.0;
    return s;
}

} // namespace rc::bench
