// The room's membership decisions as a pure reducer: who is in the room, which receiver is
// attached to whom, and what the RoomSession shell must do about each event.
//
// Modelled on web/src/room/roomMachine.ts. Every event returns the commands (start a receiver,
// detach or finish one, schedule or cancel a retry or a recheck, record a member joining or
// leaving) for the shell to carry out in order; nothing here touches GStreamer, a main loop, a
// timer or a clock, so the unit tests drive every decision directly.
//
// The rules (docs/architecture.md, "Reconnects and membership"): peer ids are the room
// server's and are new after it restarts, and may then name someone else, so receivers are
// keyed by a serial of our own and "attached" to the peer id they were offered to.
//  - On every welcome an attached receiver whose id is listed with the same name stays
//    attached and gets no new offer (our connection dropped, not theirs); a second later the
//    shell reports which of those have no media any more, and those are finished and offered
//    to anew at once (their client closed its connection to us when its signaling dropped).
//    Every other attached receiver is detached (it records while its media flows; the shell
//    finishes it when it has none).
//  - Except a receiver *away* at the rejoin: its media had stopped before our signaling
//    dropped (the participant's network was down, not the client closing its connection), so
//    its peer connection may still come back by itself once the network does. It is not
//    rechecked; if its id is not listed with its name but exactly one unclaimed member bears
//    its name (the room server restarted and handed out new ids), it is re-attached to that
//    member's id (Reattach), which gets no offer: one file, one timeline (its presence is
//    split, though: the old id's ends, the new id's begins, as ids are the server's). Whether
//    the connection comes back is the shell's watch (docs/faults.md); if it does not, the
//    receiver fails and the member is offered to anew under its current id. An away receiver
//    that no listed name claims (its client has not rejoined yet) waits, detached, and the
//    first peer-joined of its name (one waiting receiver of that name only) re-attaches it
//    instead of getting a new receiver.
//  - Every listed peer without an attached receiver or a pending retry, and every later
//    peer-joined, gets a new receiver.
//  - An attached receiver that fails is finished and, while its peer is still in the room,
//    replaced after a backoff of 1 s doubling to 30 s, reset once an output of the peer starts.
//  - Except a receiver that can reconnect (it had media: its outputs run) whose member is still
//    listed, at the recheck after a rejoin or when it fails: it makes a new peer connection
//    inside the same receiver (Reconnect), so that its files and timeline go on (issue #11);
//    a failure waits for the same backoff first. A receiver that never had media (its first
//    negotiation failed) keeps the path above.
//
// Owned by RoomSession; a plain value, thread-bound to whoever owns it (the gateway's main
// context).
#pragma once

#include "common/base/backoff.h"
#include "common/protocol/room_protocol.h"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace rc::gateway {

namespace membership {

// Create a receiver under this serial and offer to peerId.
struct StartReceiver
{
    unsigned serial = 0;
    std::string peerId;
    std::optional<std::string> name;
};
// A receiver away at a rejoin now belongs to the member listed as `to` (it was `from`'s):
// messages and the departure of `to` go to it, which keeps recording under `from`; it makes
// no offer (see Membership, "away").
struct Reattach
{
    unsigned serial = 0;
    std::string from;
    std::string to;
};
// The receiver is no longer attached to its peer id; the shell finishes it only if its media
// does not flow (it records while it does).
// waiting: an away receiver that no listed member's name claimed (the room server may not have
// its client back yet); the shell keeps it as it is (no PeerReceiver::detach, which would fail
// it in its gap), and a later peer-joined with its name re-attaches it.
struct Detach
{
    unsigned serial = 0;
    std::string peerId;
    std::string why;
    bool waiting = false;
};
// Finalize the receiver. detach: it is no longer attached (false only when the room stops,
// which leaves the attachment as it was).
struct Finish
{
    unsigned serial = 0;
    std::string reason;
    bool detach = true;
};
// After delay, replace the receiver's peer connection by a new one offered to peerId, inside
// the same receiver: same outputs, same files, the media between the two a network gap. It
// stays attached.
struct Reconnect
{
    unsigned serial = 0;
    std::string peerId;
    std::string reason;
    std::chrono::milliseconds delay { 0 };
};
// Call Membership::recheckAfterRejoin after delay with those of serials whose media stopped.
// Replaces a recheck still pending.
struct ScheduleRecheck
{
    std::vector<unsigned> serials;
    std::chrono::milliseconds delay { 0 };
};
// Drop a pending recheck (the room stops).
struct CancelRecheck
{
};
// Call Membership::retryDue(peerId) after delay.
struct ScheduleRetry
{
    std::string peerId;
    std::chrono::milliseconds delay { 0 };
};
// Drop peerId's pending retry: that member is gone or was replaced.
struct CancelRetry
{
    std::string peerId;
};
// peerId is a member (again) from now on. announce: a new presence (manifest entry, webhook);
// false for a member a rejoin found unchanged, whose join time starts over but who was already
// announced.
struct MemberJoined
{
    std::string peerId;
    std::optional<std::string> name;
    bool announce = true;
};
// peerId's presence ends (manifest, webhook); it is no longer a member.
struct MemberLeft
{
    std::string peerId;
};

} // namespace membership

using MembershipCommand = std::variant<membership::StartReceiver, membership::Reattach,
    membership::Detach, membership::Finish, membership::Reconnect, membership::ScheduleRecheck,
    membership::CancelRecheck, membership::ScheduleRetry, membership::CancelRetry,
    membership::MemberJoined, membership::MemberLeft>;
using MembershipCommands = std::vector<MembershipCommand>;

class Membership
{
public:
    // Today's schedules (docs/architecture.md): replacing a failed receiver, and looking at
    // kept receivers after a rejoin.
    static constexpr std::chrono::milliseconds kRetryInitial { 1000 };
    static constexpr std::chrono::milliseconds kRetryMax { 30000 };
    static constexpr std::chrono::milliseconds kRejoinCheckDelay { 1000 };
    // A receiver is away at a rejoin when its media stopped at least this long before our
    // signaling dropped: a client that closes its connection to us when its own signaling
    // drops (the web client, the test peer) stops within a few tens of ms of our drop, as the
    // server's end closes both sockets at once.
    static constexpr std::chrono::milliseconds kAwayLead { 1000 };

    // Whether a receiver is away at a rejoin (see the header comment): mediaIdle is the time
    // since its last media, sinceDrop the time since our signaling dropped, both now.
    static bool awayAtRejoin(
        std::chrono::milliseconds mediaIdle, std::chrono::milliseconds sinceDrop) noexcept
    {
        return mediaIdle > sinceDrop + kAwayLead;
    }

    struct Member
    {
        std::optional<std::string> name;
        Backoff retry { kRetryInitial, kRetryMax };
        bool retryPending = false; // a ScheduleRetry not yet due nor cancelled
    };
    struct Receiver
    {
        std::string peerId;
        std::optional<std::string> name;
        bool attached = true;
        bool finishing = false; // a Finish was issued, or it could not start
        bool waiting = false; // detached at a rejoin, for a member of its name (Detach::waiting)
        bool away = false; // its media had stopped before our signaling dropped (at the rejoin)
    };

    // We joined or rejoined the room; peers are the visible members listed; away: the attached
    // receivers whose media had stopped before our signaling dropped (awayAtRejoin).
    MembershipCommands welcome(
        const std::vector<protocol::PeerInfo> &peers, const std::vector<unsigned> &away = {});
    MembershipCommands peerJoined(const protocol::PeerInfo &peer);
    MembershipCommands peerLeft(const std::string &peerId);
    // The recheck scheduled after a rejoin is due; mediaStopped: the scheduled serials whose
    // receivers got no media lately; reconnectable: those of them that can make a new peer
    // connection inside the same receiver (they had media).
    MembershipCommands recheckAfterRejoin(
        const std::vector<unsigned> &mediaStopped, const std::vector<unsigned> &reconnectable = {});
    // A receiver reports failure (ICE failed, no media); reconnectable: it can make a new peer
    // connection inside itself (it had media, nothing in its pipeline broke).
    MembershipCommands receiverFailed(
        unsigned serial, const std::string &reason, bool reconnectable = false);
    // The shell could not start the receiver and finished it itself.
    void receiverStartFailed(unsigned serial);
    // The receiver is finalized and gone.
    void receiverFinished(unsigned serial);
    // An output of peerId got its first buffer: its retry schedule starts over.
    void outputStarted(const std::string &peerId);
    // A ScheduleRetry for peerId is due.
    MembershipCommands retryDue(const std::string &peerId);
    // The room stops: no more offers; every receiver is finished.
    MembershipCommands stop();

    // The receiver attached to peerId that is not finishing (answers and candidates go to it).
    std::optional<unsigned> attachedTo(const std::string &peerId) const;
    const std::map<std::string, Member> &members() const noexcept { return members_; }
    const std::map<unsigned, Receiver> &receivers() const noexcept { return receivers_; }
    bool stopping() const noexcept { return stopping_; }

private:
    void startReceiver(
        const std::string &peerId, const std::optional<std::string> &name, MembershipCommands &out);
    // Re-attaches each orphan (an attached receiver whose id is not listed with its name) that
    // its name ties to exactly one listed newcomer, away or not: a client that keeps its
    // connection to us across its own rejoin stays in the same files. Those whose media still
    // flowed go into recheck: if their client did close its connection after all, the recheck
    // sees their media stop. Returns the orphans left, each with whether it should wait (away,
    // and no newcomer of its name listed).
    std::vector<std::pair<unsigned, bool>> reattachByName(std::map<std::string, Member> &roster,
        const std::vector<unsigned> &orphans, const std::vector<unsigned> &away,
        std::set<std::string> &claimed, std::vector<unsigned> &recheck, MembershipCommands &out);

    std::map<std::string, Member> members_; // the visible members, as last told by the server
    std::map<unsigned, Receiver> receivers_; // by serial: ids can repeat across server restarts
    unsigned nextSerial_ = 1;
    bool stopping_ = false;
};

} // namespace rc::gateway
