// One room's members in join order, and who of them sees what.
//
// Owned by the RoomRegistry; thread-bound to the server's GMainContext.
#pragma once

#include "common/protocol/room_protocol.h"
#include "signaling/peer_link.h"

#include <optional>
#include <string>
#include <vector>

namespace rc::signaling {

struct Member
{
    std::string id;
    std::optional<std::string> name;
    bool hidden = false;
    std::string room;
    PeerLink *link = nullptr; // borrowed; valid while the member is in the registry
};

class Room
{
public:
    explicit Room(std::string name)
        : name_(std::move(name))
    { }

    const std::string &name() const noexcept { return name_; }

    // Members are borrowed from the registry.
    void add(Member *member);
    void remove(const Member *member);

    size_t visibleCount() const noexcept { return visible_; }
    size_t hiddenCount() const noexcept { return hidden_; }
    bool empty() const noexcept { return members_.empty(); }
    // A room is recorded while it has a hidden member (the gateway).
    bool recording() const noexcept { return hidden_ > 0; }

    Member *find(std::string_view id) const noexcept;
    const std::vector<Member *> &members() const noexcept { return members_; }

    // The visible members other than `except`, as listed in a welcome.
    std::vector<protocol::PeerInfo> visiblePeers(const Member *except) const;

    // Sends text to every member other than `except`; only to visible ones
    // when visibleOnly.
    void broadcast(const std::string &text, const Member *except, bool visibleOnly) const;

private:
    std::string name_;
    std::vector<Member *> members_; // join order
    size_t visible_ = 0;
    size_t hidden_ = 0;
};

} // namespace rc::signaling
