// Joining, leaving and routing; see room_registry.h and the spec's tables.
#include "signaling/room_registry.h"

namespace rc::signaling {

std::variant<const Member *, protocol::ErrorCode> RoomRegistry::join(
    PeerLink *link, const protocol::Join &join)
{
    auto roomIt = rooms_.find(join.room);
    if (!join.hidden && maxVisible_ > 0 && roomIt != rooms_.end()
        && roomIt->second->visibleCount() >= maxVisible_)
        return protocol::ErrorCode::roomFull;
    if (roomIt == rooms_.end())
        roomIt = rooms_.emplace(join.room, std::make_unique<Room>(join.room)).first;
    Room &room = *roomIt->second;

    auto owned = std::make_unique<Member>();
    owned->id = "p" + std::to_string(nextId_++);
    owned->name = join.name;
    owned->hidden = join.hidden;
    owned->room = join.room;
    owned->link = link;
    Member *member = owned.get();
    members_.emplace(member->id, std::move(owned));

    const bool firstHidden = member->hidden && room.hiddenCount() == 0;
    room.add(member);
    link->send(protocol::encodeWelcome(
        member->id, room.name(), room.visiblePeers(member), room.recording()));
    if (!member->hidden)
        room.broadcast(protocol::encodePeerJoined({ member->id, member->name }), member, false);
    else if (firstHidden)
        room.broadcast(protocol::encodeRecording(true), member, true);
    return member;
}

void RoomRegistry::leave(const std::string &id)
{
    auto memberIt = members_.find(id);
    if (memberIt == members_.end())
        return;
    std::unique_ptr<Member> member = std::move(memberIt->second);
    members_.erase(memberIt);

    auto roomIt = rooms_.find(member->room);
    if (roomIt == rooms_.end())
        return;
    Room &room = *roomIt->second;
    room.remove(member.get());
    if (!member->hidden)
        room.broadcast(protocol::encodePeerLeft(member->id), nullptr, false);
    else if (room.hiddenCount() == 0)
        room.broadcast(protocol::encodeRecording(false), nullptr, true);
    if (room.empty())
        rooms_.erase(roomIt);
}

bool RoomRegistry::route(
    const std::string &fromId, const protocol::Signal &signal, JsonObject *message)
{
    const Member *from = member(fromId);
    if (!from)
        return false;
    auto roomIt = rooms_.find(from->room);
    if (roomIt == rooms_.end())
        return false;
    const Room &room = *roomIt->second;
    if (signal.to) {
        // The sender is a member of its own room too; addressing oneself is
        // odd but not an unknown peer.
        Member *to = room.find(*signal.to);
        if (!to)
            return false;
        to->link->send(protocol::encodeForwarded(message, from->id, from->hidden));
        return true;
    }
    // Without "to": every other visible member, never a hidden one, whoever sends.
    room.broadcast(protocol::encodeForwarded(message, from->id, from->hidden), from, true);
    return true;
}

const Member *RoomRegistry::member(std::string_view id) const
{
    auto it = members_.find(id);
    return it == members_.end() ? nullptr : it->second.get();
}

} // namespace rc::signaling
