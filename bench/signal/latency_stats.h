// Latency samples of one measurement window and their percentiles.
//
// Thread-bound: each shard fills its own; LoadRun merges them after the shards stop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rc::bench {

struct LatencySummary
{
    size_t count = 0;
    double p50Us = 0;
    double p90Us = 0;
    double p99Us = 0;
    double p999Us = 0;
    double maxUs = 0;
};

class LatencyStats
{
public:
    // Reserves room for the expected number of samples so that recording never
    // reallocates inside the measured window.
    void reserve(size_t n) { samplesNs_.reserve(n); }
    void add(uint64_t latencyNs) { samplesNs_.push_back(latencyNs); }
    size_t count() const noexcept { return samplesNs_.size(); }
    // Moves other's samples into this one (merging shards).
    void absorb(LatencyStats &other)
    {
        samplesNs_.insert(samplesNs_.end(), other.samplesNs_.begin(), other.samplesNs_.end());
        other.samplesNs_.clear();
    }

    // Nearest-rank percentiles over every sample; sorts the samples in place.
    LatencySummary summarize();

private:
    std::vector<uint64_t> samplesNs_;
};

} // namespace rc::bench
