// The members of a benchmark level that one thread drives: their connections,
// their share of the load, and their counters and latency samples.
//
// Thread-bound: every method runs on the one thread that calls setUp(), which
// creates the shard's own GMainContext and makes it that thread's default.
#pragma once

#include "bench_member.h"
#include "latency_stats.h"
#include "load_plan.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rc::bench {

struct ShardCounters
{
    uint64_t sentInWindow = 0; // messages sent inside the window
    uint64_t receivedInWindow = 0; // forwarded messages that arrived inside the window
    uint64_t deliveredOfWindow = 0; // of those sent inside the window, arrived by the drain's end
    uint64_t pacerSkipped = 0; // open loop: sends skipped because the client fell behind
    uint64_t rateLimited = 0;
    uint64_t unexpectedCloses = 0;
    std::map<std::string, uint64_t> otherErrors;

    void add(const ShardCounters &o);
};

class LoadShard final : public MemberListener
{
public:
    LoadShard(unsigned shard, const LoadOptions &options, const Layout &layout);
    ~LoadShard();
    LoadShard(const LoadShard &) = delete;
    LoadShard &operator=(const LoadShard &) = delete;

    // Connects and joins this shard's members; false (see error()) on failure
    // or after options.setupTimeoutS.
    bool setUp();
    // Offers the load from schedule.startNs to windowEndNs, then waits for the
    // window's messages until drainEndNs.
    void load(const Schedule &schedule);
    // Closes every connection and releases the context.
    void tearDown();

    const std::string &error() const noexcept { return setupError_; }
    const ShardCounters &counters() const noexcept { return counters_; }
    LatencyStats &latency() noexcept { return latency_; }

private:
    void runUntil(uint64_t deadlineNs);
    void startConnects();
    void onTick();
    void sendOne(uint32_t sender);

    void onConnected(BenchMember &member, const std::string &error) override;
    void onWelcome(BenchMember &member) override;
    void onStamped(
        BenchMember &receiver, uint32_t src, uint64_t sentNs, uint64_t receivedNs) override;
    void onServerError(BenchMember &member, const std::string &code) override;
    void onClosed(BenchMember &member) override;

    const unsigned shard_;
    const LoadOptions &options_; // borrowed from LoadRun, which outlives the shard
    const Layout &layout_;

    GPtr<GMainContext> ctx_;
    GPtr<SoupSession> session_;
    std::unique_ptr<signaling::FdPoller> poller_; // the raw transport's sockets
    uint16_t port_ = 0;
    std::string path_;
    std::vector<std::unique_ptr<BenchMember>> members_;
    std::vector<BenchMember *> byIndex_; // global member index -> ours, or nullptr
    std::vector<uint32_t> senders_; // global indices of our sending members
    unsigned perSenderWindow_ = 1;

    // Set-up.
    size_t nextToConnect_ = 0;
    unsigned connecting_ = 0;
    size_t welcomed_ = 0;
    std::string setupError_;
    bool loadStarted_ = false;
    bool tearingDown_ = false;

    // Load.
    Schedule schedule_;
    bool sending_ = false;
    double rate_ = 0; // this shard's share of the offered rate
    GPtr<GSource> pacer_;
    uint64_t paced_ = 0;
    size_t nextSender_ = 0;

    ShardCounters counters_;
    LatencyStats latency_;
};

} // namespace rc::bench
