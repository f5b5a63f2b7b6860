// How a benchmark level is laid out and timed: which member is in which room,
// whom it addresses, which shard (thread) drives it, and the shared schedule.
//
// Plain data: built by LoadRun before the shard threads start, then read-only
// (the schedule is written once between two barriers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rc::bench {

enum class LoadMode {
    open, // a fixed offered rate, whatever the latency (no coordinated omission)
    closed, // a fixed number of messages in flight: finds the saturation rate
};

const char *loadModeName(LoadMode mode) noexcept;

struct LoadOptions
{
    std::string url;
    unsigned connections = 1;
    unsigned roomSize = 10;
    LoadMode mode = LoadMode::open;
    double rate = 20000; // open: messages/s offered over all senders
    unsigned window = 256; // closed: messages in flight over all senders (at least 1 each)
    double warmupS = 1;
    double durationS = 10;
    double drainS = 2;
    double setupTimeoutS = 60;
    unsigned connectConcurrency = 32; // handshakes in flight, over all shards
    unsigned threads = 1; // shards, each with its own GMainContext
    int serverPid = 0; // > 0: report the server's CPU use over the window
    bool deflate = false;
    bool soupClient = false; // libsoup's WebSocket client instead of RawWsClient
    bool callgrind = false; // the server runs under callgrind: zero/dump around the window
    std::string roomPrefix = "bench";
};

// N sending connections in rooms of roomSize (members spread round robin over
// max(1, N / roomSize) rooms); each member addresses the next member of its
// room, in a ring, so every message sent is forwarded exactly once and every
// connection both sends and receives. N = 1 is one sender plus one
// receive-only member in the same room: a lone member has nobody to forward
// to. Whole rooms go to one shard, so a message never crosses threads.
struct Layout
{
    unsigned senders = 0; // members [0, senders) send
    unsigned rooms = 0;
    unsigned shards = 0;
    std::vector<unsigned> roomOf; // per member
    std::vector<uint32_t> targetOf; // per member: the member it addresses
    std::vector<unsigned> shardOf; // per member

    size_t memberCount() const noexcept { return roomOf.size(); }
    static Layout build(unsigned connections, unsigned roomSize, unsigned threads);
};

// Absolute CLOCK_MONOTONIC times shared by every shard.
struct Schedule
{
    bool abort = false;
    uint64_t startNs = 0; // load starts (warm-up)
    uint64_t windowStartNs = 0; // measurement window [windowStartNs, windowEndNs)
    uint64_t windowEndNs = 0; // load stops
    uint64_t drainEndNs = 0; // last moment to wait for the window's messages
};

} // namespace rc::bench
