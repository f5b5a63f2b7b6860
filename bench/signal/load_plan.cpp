// Room layout of a benchmark level; see load_plan.h.
#include "load_plan.h"

#include <algorithm>

namespace rc::bench {

const char *loadModeName(LoadMode mode) noexcept
{
    return mode == LoadMode::open ? "open" : "closed";
}

Layout Layout::build(unsigned connections, unsigned roomSize, unsigned threads)
{
    Layout l;
    const unsigned n = std::max(1u, connections);
    l.senders = n;
    const unsigned members = n == 1 ? 2 : n;
    l.rooms = std::max(1u, n / std::max(1u, roomSize));
    l.shards = std::clamp(threads, 1u, l.rooms);

    std::vector<std::vector<uint32_t>> roomMembers(l.rooms);
    l.roomOf.resize(members);
    l.shardOf.resize(members);
    l.targetOf.resize(members);
    for (uint32_t i = 0; i < members; ++i) {
        l.roomOf[i] = i % l.rooms;
        l.shardOf[i] = l.roomOf[i] % l.shards;
        roomMembers[l.roomOf[i]].push_back(i);
    }
    for (const auto &room : roomMembers)
        for (size_t j = 0; j < room.size(); ++j)
            l.targetOf[room[j]] = room[(j + 1) % room.size()];
    return l;
}

} // namespace rc::bench
