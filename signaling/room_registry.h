// Every room of one server: joining and leaving with their announcements, and routing of signals.
//
// Owned by the SignalDispatcher; thread-bound to the server's GMainContext.
// Pure logic over PeerLinks, so it is tested without sockets.
#pragma once

#include "common/protocol/room_protocol.h"
#include "signaling/peer_link.h"
#include "signaling/room.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>

namespace rc::signaling {

class RoomRegistry
{
public:
    // maxVisiblePerRoom: 0 for no limit. Hidden members never count.
    explicit RoomRegistry(unsigned maxVisiblePerRoom)
        : maxVisible_(maxVisiblePerRoom)
    { }

    // Adds link's connection to join.room under a fresh id and sends: the
    // welcome to link; peer-joined to every other member (visible joiner) or
    // recording true to every visible member (first hidden joiner). Returns
    // the new member, or room-full with nothing sent.
    std::variant<const Member *, protocol::ErrorCode> join(
        PeerLink *link, const protocol::Join &join);

    // Removes a member and sends peer-left (visible) or recording false (last
    // hidden) to those who remain. Unknown ids are ignored.
    void leave(const std::string &id);

    // Delivers a validated signal from member `fromId`: to member `to` of the
    // same room, or without `to` to every other visible member. False when
    // `to` names no member of the sender's room (nothing is sent).
    bool route(const std::string &fromId, const protocol::Signal &signal, JsonObject *message);

    const Member *member(std::string_view id) const;
    size_t roomCount() const noexcept { return rooms_.size(); }
    size_t memberCount() const noexcept { return members_.size(); }

private:
    unsigned maxVisible_;
    uint64_t nextId_ = 1; // ids are never reused during the server's lifetime
    std::map<std::string, std::unique_ptr<Room>, std::less<>> rooms_;
    std::map<std::string, std::unique_ptr<Member>, std::less<>> members_;
};

} // namespace rc::signaling
