// The room's membership decisions as a pure reducer; see membership.h.
#include "gateway/room/membership.h"

#include <algorithm>
#include <set>
#include <utility>

namespace rc::gateway {

using namespace membership;

MembershipCommands Membership::welcome(
    const std::vector<protocol::PeerInfo> &peers, const std::vector<unsigned> &away)
{
    MembershipCommands out;
    if (stopping_)
        return out;
    std::map<std::string, Member> roster;
    for (const auto &peer : peers)
        roster[peer.id].name = peer.name;
    const auto isAway = [&away](unsigned serial) {
        return std::find(away.begin(), away.end(), serial) != away.end();
    };

    // Keep what is provably the same membership; re-attach what is probably the same member
    // under a new id; detach everything else.
    std::vector<unsigned> kept, orphans;
    std::set<std::string> claimed; // listed ids that have their receiver
    std::vector<unsigned> awayNow = away;
    for (auto &[serial, r] : receivers_) {
        if (r.waiting && !r.finishing) {
            // Still waiting from an earlier rejoin: away as before.
            orphans.push_back(serial);
            awayNow.push_back(serial);
            continue;
        }
        if (!r.attached)
            continue;
        auto it = roster.find(r.peerId);
        if (it == roster.end() || it->second.name != r.name) {
            orphans.push_back(serial);
            continue;
        }
        claimed.insert(r.peerId);
        // Away: the network stopped its media, not the rejoin; nothing for the recheck to see.
        if (!isAway(serial))
            kept.push_back(serial);
    }
    std::sort(orphans.begin(), orphans.end());
    for (auto [serial, wait] : reattachByName(roster, orphans, awayNow, claimed, kept, out)) {
        Receiver &r = receivers_[serial];
        const bool wasWaiting = std::exchange(r.waiting, wait);
        if (wait && wasWaiting)
            continue; // already told
        r.attached = false;
        out.push_back(Detach { serial, r.peerId,
            r.waiting ? "not in the room's new peer list yet; its connection may come back"
                      : "not in the room's new peer list",
            r.waiting });
    }
    // Same id and name: maybe our connection dropped and theirs did not. But a client may
    // have dropped its connection to us when the outage began (it was told the room is no
    // longer recorded): look again shortly, and offer anew at once to those whose media
    // stopped, rather than after the media timeout.
    if (!kept.empty())
        out.push_back(ScheduleRecheck { std::move(kept), kRejoinCheckDelay });
    // Members still listed keep their retry state; the others are gone.
    for (auto &[id, member] : roster) {
        auto old = members_.find(id);
        if (old != members_.end() && old->second.name == member.name) {
            member.retry = old->second.retry;
            member.retryPending = std::exchange(old->second.retryPending, false);
        }
    }
    for (auto &[id, member] : members_) {
        auto it = roster.find(id);
        if (it == roster.end() || it->second.name != member.name) {
            if (member.retryPending)
                out.push_back(CancelRetry { id });
            out.push_back(MemberLeft { id });
        }
    }
    auto previous = std::move(members_);
    members_ = std::move(roster);
    for (const auto &peer : peers) {
        auto old = previous.find(peer.id);
        const bool known = old != previous.end() && old->second.name == peer.name;
        out.push_back(MemberJoined { peer.id, peer.name, !known });
        if (!attachedTo(peer.id) && !members_[peer.id].retryPending)
            startReceiver(peer.id, peer.name, out);
    }
    return out;
}

std::vector<std::pair<unsigned, bool>> Membership::reattachByName(
    std::map<std::string, Member> &roster, const std::vector<unsigned> &orphans,
    const std::vector<unsigned> &away, std::set<std::string> &claimed,
    std::vector<unsigned> &recheck, MembershipCommands &out)
{
    std::vector<std::pair<unsigned, bool>> rest;
    for (unsigned serial : orphans) {
        Receiver &r = receivers_[serial];
        std::optional<std::string> to;
        const bool isAway = std::find(away.begin(), away.end(), serial) != away.end();
        r.away = isAway;
        unsigned named = 0;
        // Names are all there is to go by (ids are the server's): only a name that picks
        // exactly one listed, unclaimed newcomer and no other orphaned receiver.
        for (const auto &[id, member] : roster) {
            auto old = members_.find(id);
            const bool newcomer = old == members_.end() || old->second.name != member.name;
            if (member.name == r.name && newcomer && !claimed.count(id)) {
                ++named;
                to = id;
            }
        }
        bool rivals = false;
        for (unsigned other : orphans)
            rivals = rivals || (other != serial && receivers_[other].name == r.name);
        if (named != 1 || rivals)
            to.reset();
        if (!to) {
            // No newcomer of its name listed: its client may not be back yet (we were quicker).
            rest.emplace_back(serial, named == 0);
            continue;
        }
        const std::string from = r.peerId;
        r.peerId = *to;
        r.attached = true;
        r.waiting = false;
        claimed.insert(*to);
        out.push_back(Reattach { serial, from, *to });
        if (!isAway)
            recheck.push_back(serial);
    }
    return rest;
}

MembershipCommands Membership::recheckAfterRejoin(
    const std::vector<unsigned> &mediaStopped, const std::vector<unsigned> &reconnectable)
{
    MembershipCommands out;
    if (stopping_)
        return out;
    for (unsigned serial : mediaStopped) {
        auto it = receivers_.find(serial);
        if (it == receivers_.end() || !it->second.attached || it->second.finishing)
            continue;
        Receiver &r = it->second;
        const std::string peerId = r.peerId;
        const char *why = "its media stopped during the signaling outage";
        if (std::find(reconnectable.begin(), reconnectable.end(), serial) != reconnectable.end()) {
            // Its client closed its connection to us: a new one, same files.
            out.push_back(Reconnect { serial, peerId, why, std::chrono::milliseconds(0) });
            continue;
        }
        r.attached = false;
        r.finishing = true;
        out.push_back(Finish { serial, why });
        if (auto m = members_.find(peerId); m != members_.end() && !m->second.retryPending)
            startReceiver(peerId, m->second.name, out);
    }
    return out;
}

MembershipCommands Membership::peerJoined(const protocol::PeerInfo &peer)
{
    MembershipCommands out;
    if (stopping_)
        return out;
    if (auto stale = attachedTo(peer.id)) {
        receivers_[*stale].attached = false;
        out.push_back(Detach { *stale, peer.id, "its id now names a new member" });
    }
    // A new member: any retry of the one before under this id is void.
    if (auto old = members_.find(peer.id); old != members_.end() && old->second.retryPending)
        out.push_back(CancelRetry { peer.id });
    members_[peer.id] = Member { peer.name };
    out.push_back(MemberJoined { peer.id, peer.name, true });
    // A receiver waiting since a rejoin for a member of this name (see the header).
    std::optional<unsigned> heir;
    unsigned named = 0;
    for (const auto &[serial, r] : receivers_)
        if (r.waiting && !r.finishing && r.name == peer.name) {
            heir = serial;
            ++named;
        }
    if (named == 1) {
        Receiver &r = receivers_[*heir];
        out.push_back(Reattach { *heir, r.peerId, peer.id });
        r.peerId = peer.id;
        r.attached = true;
        r.waiting = false;
        // Not away: its client may have closed its connection with the drop; look again.
        if (!r.away)
            out.push_back(ScheduleRecheck { { *heir }, kRejoinCheckDelay });
        return out;
    }
    startReceiver(peer.id, peer.name, out);
    return out;
}

MembershipCommands Membership::peerLeft(const std::string &peerId)
{
    MembershipCommands out;
    if (auto it = members_.find(peerId); it != members_.end()) {
        if (it->second.retryPending)
            out.push_back(CancelRetry { peerId });
        members_.erase(it);
        out.push_back(MemberLeft { peerId });
    }
    if (auto serial = attachedTo(peerId)) {
        Receiver &r = receivers_[*serial];
        r.attached = false;
        r.finishing = true;
        out.push_back(Finish { *serial, "left the room" });
    }
    return out;
}

MembershipCommands Membership::receiverFailed(
    unsigned serial, const std::string &reason, bool reconnectable)
{
    MembershipCommands out;
    auto it = receivers_.find(serial);
    if (it == receivers_.end())
        return out;
    Receiver &r = it->second;
    auto member = members_.find(r.peerId);
    const bool retry = r.attached && !stopping_ && member != members_.end();
    if (retry && reconnectable && !r.finishing) {
        // Same receiver, a new peer connection after the backoff: its files go on.
        out.push_back(Reconnect { serial, r.peerId, reason, member->second.retry.next() });
        return out;
    }
    r.attached = false;
    r.finishing = true;
    out.push_back(Finish { serial, reason });
    if (retry) {
        member->second.retryPending = true;
        out.push_back(ScheduleRetry { r.peerId, member->second.retry.next() });
    }
    return out;
}

void Membership::receiverStartFailed(unsigned serial)
{
    if (auto it = receivers_.find(serial); it != receivers_.end())
        it->second.finishing = true;
}

void Membership::receiverFinished(unsigned serial)
{
    receivers_.erase(serial);
}

void Membership::outputStarted(const std::string &peerId)
{
    if (auto it = members_.find(peerId); it != members_.end())
        it->second.retry.reset();
}

MembershipCommands Membership::retryDue(const std::string &peerId)
{
    MembershipCommands out;
    auto it = members_.find(peerId);
    if (it == members_.end() || !it->second.retryPending)
        return out;
    it->second.retryPending = false;
    if (!stopping_ && !attachedTo(peerId))
        startReceiver(peerId, it->second.name, out);
    return out;
}

MembershipCommands Membership::stop()
{
    MembershipCommands out;
    if (stopping_)
        return out;
    stopping_ = true;
    out.push_back(CancelRecheck {});
    for (auto &[id, member] : members_)
        if (std::exchange(member.retryPending, false))
            out.push_back(CancelRetry { id });
    for (auto &[serial, r] : receivers_) {
        r.finishing = true;
        out.push_back(Finish { serial, "gateway stopping", false });
    }
    return out;
}

std::optional<unsigned> Membership::attachedTo(const std::string &peerId) const
{
    for (const auto &[serial, r] : receivers_)
        if (r.attached && r.peerId == peerId && !r.finishing)
            return serial;
    return std::nullopt;
}

void Membership::startReceiver(
    const std::string &peerId, const std::optional<std::string> &name, MembershipCommands &out)
{
    const unsigned serial = nextSerial_++;
    receivers_[serial] = Receiver { peerId, name };
    out.push_back(StartReceiver { serial, peerId, name });
}

} // namespace rc::gateway
