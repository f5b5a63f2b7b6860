// Membership of one room; see room.h.
#include "signaling/room.h"

#include <algorithm>

namespace rc::signaling {

void Room::add(Member *member)
{
    members_.push_back(member);
    ++(member->hidden ? hidden_ : visible_);
}

void Room::remove(const Member *member)
{
    auto it = std::find(members_.begin(), members_.end(), member);
    if (it == members_.end())
        return;
    members_.erase(it);
    --(member->hidden ? hidden_ : visible_);
}

Member *Room::find(std::string_view id) const noexcept
{
    for (Member *m : members_)
        if (m->id == id)
            return m;
    return nullptr;
}

std::vector<protocol::PeerInfo> Room::visiblePeers(const Member *except) const
{
    std::vector<protocol::PeerInfo> peers;
    for (const Member *m : members_)
        if (m != except && !m->hidden)
            peers.push_back({ m->id, m->name });
    return peers;
}

void Room::broadcast(const std::string &text, const Member *except, bool visibleOnly) const
{
    // Copy first: a send never changes membership today, but a link that
    // fails synchronously must not invalidate this iteration.
    const std::vector<Member *> targets = members_;
    for (Member *m : targets)
        if (m != except && !(visibleOnly && m->hidden))
            m->link->send(text);
}

} // namespace rc::signaling
