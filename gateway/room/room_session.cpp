// One room's hidden membership, receivers, files and manifest; see room_session.h (its outputs
// are RoomOutputs, room_outputs.cpp).
#include "gateway/room/room_session.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "gateway/ops/output_params.h"
#include "gateway/templates/template_instance.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <utility>

namespace rc::gateway {
namespace {

constexpr std::chrono::milliseconds kRetryMin { 1000 };
constexpr std::chrono::milliseconds kRetryMax { 30000 };
// After a rejoin, when to look whether kept receivers still get media, and
// how much silence then means the client dropped us (audio alone arrives
// every 20 ms).
constexpr std::chrono::milliseconds kRejoinCheckDelay { 1000 };
constexpr std::chrono::milliseconds kIdleAtRejoin { 700 };

std::string nameOrDash(const std::optional<std::string> &name)
{
    return name ? *name : std::string("-");
}

} // namespace

RoomSession::RoomSession(GMainContext *context, Settings settings, FatalCallback onFatal)
    : context_(context)
    , settings_(std::move(settings))
    , onFatal_(std::move(onFatal))
    , layout_(settings_.recordingsDir, settings_.room, settings_.sessionStart)
    , manifest_(layout_.manifestPath(), settings_.room, settings_.sessionStart)
    , outputs_(context,
          { settings_.room, settings_.recordingsDir, settings_.sessionStart,
              settings_.receiver.finalizeTimeout },
          layout_, manifest_,
          { [this] {
               std::vector<RoomOutputs::ReceiverRef> refs;
               for (auto &[serial, r] : receivers_)
                   refs.push_back({ serial, r.peerId, r.receiver.get() });
               return refs;
           },
              [this] { return stopping_; }, [this] { checkStopped(); } })
    , self_(std::make_shared<RoomSession *>(this))
{ }

RoomSession::~RoomSession()
{
    *self_ = nullptr;
    signaling_.reset();
    receivers_.clear();
    // outputs_ goes next (stops its composites), with nobody left to feed them.
}

bool RoomSession::start(std::string &error)
{
    if (!layout_.ensureSessionDir(error))
        return false;
    std::string writeError;
    if (!manifest_.write(writeError)) {
        error = "cannot write " + layout_.manifestPath() + ": " + writeError;
        return false;
    }
    RC_LOG_INFO("gateway: room %s: recording into %s", settings_.room.c_str(),
        layout_.sessionDir().c_str());
    // Every template the gateway started with becomes an output.
    for (const auto &[tpl, params] : settings_.templates)
        outputs_.addInitial(tpl, params);

    protocol::Join join;
    join.room = settings_.room;
    join.hidden = true;
    join.token = settings_.token;
    RoomLink::Callbacks callbacks;
    callbacks.onWelcome = [this](const protocol::Welcome &w) { onWelcome(w); };
    callbacks.onMessage = [this](const protocol::ServerMessage &m) { onMessage(m); };
    callbacks.onDisconnected = [this](const std::string &reason) {
        // Once per outage; SignalingClient logs each retry itself.
        if (std::exchange(joined_, false))
            RC_LOG_WARN("gateway: room %s: signaling lost (%s); media keeps flowing, rejoining",
                settings_.room.c_str(), reason.c_str());
    };
    callbacks.onFatal = [this](const std::string &code, const std::string &message) {
        if (onFatal_)
            onFatal_(code, message);
    };
    signaling_ = settings_.link(std::move(join), std::move(callbacks));
    signaling_->start();
    return true;
}

void RoomSession::setToken(std::optional<std::string> token)
{
    settings_.token = token;
    if (signaling_)
        signaling_->setJoinToken(std::move(token));
}

void RoomSession::onWelcome(const protocol::Welcome &welcome)
{
    ++welcomes_;
    joined_ = true;
    RC_LOG_INFO("gateway: room %s: %s as hidden member %s; %zu visible peer(s)",
        settings_.room.c_str(), welcomes_ == 1 ? "joined" : "rejoined", welcome.id.c_str(),
        welcome.peers.size());
    if (stopping_)
        return;
    std::map<std::string, Member> roster;
    for (const auto &peer : welcome.peers)
        roster[peer.id].name = peer.name;

    // Keep what is provably the same membership; detach everything else.
    std::vector<unsigned> kept;
    for (auto &[serial, r] : receivers_) {
        if (!r.attached)
            continue;
        auto it = roster.find(r.peerId);
        if (it == roster.end() || it->second.name != r.name) {
            detach(r, "not in the room's new peer list");
        } else {
            kept.push_back(serial);
        }
    }
    // Same id and name: maybe our connection dropped and theirs did not. But
    // a client may have dropped its connection to us when the outage began
    // (it was told the room is no longer recorded): look again shortly, and
    // offer anew at once to those whose media stopped, rather than after the
    // media timeout.
    if (!kept.empty()) {
        std::weak_ptr<RoomSession *> weak = self_;
        rejoinCheck_ = addTimeout(context_, kRejoinCheckDelay, [weak, kept] {
            auto s = weak.lock();
            if (s && *s)
                post((*s)->context_, [weak, kept] {
                    if (auto s2 = weak.lock(); s2 && *s2)
                        (*s2)->recheckAfterRejoin(kept);
                });
            return false;
        });
    }
    // Members still listed keep their retry state; the others are gone.
    for (auto &[id, member] : roster) {
        auto old = members_.find(id);
        if (old != members_.end() && old->second.name == member.name) {
            member.failures = old->second.failures;
            member.retryTimer = std::move(old->second.retryTimer);
        }
    }
    for (auto &[id, member] : members_) {
        auto it = roster.find(id);
        if (it == roster.end() || it->second.name != member.name) {
            manifest_.participantLeft(id, std::chrono::system_clock::now());
            if (events_.participantLeft)
                events_.participantLeft(participantInfo(id));
        }
    }
    auto previous = std::move(members_);
    members_ = std::move(roster);
    for (const auto &peer : welcome.peers) {
        auto old = previous.find(peer.id);
        const bool known = old != previous.end() && old->second.name == peer.name;
        if (!known) {
            manifest_.participantJoined(peer.id, peer.name, std::chrono::system_clock::now());
            if (events_.participantJoined)
                events_.participantJoined(participantInfo(peer.id));
        }
        if (!attachedTo(peer.id) && !members_[peer.id].retryTimer)
            startReceiver(peer.id, peer.name);
    }
}

void RoomSession::recheckAfterRejoin(const std::vector<unsigned> &serials)
{
    rejoinCheck_.reset();
    if (stopping_)
        return;
    for (unsigned serial : serials) {
        auto it = receivers_.find(serial);
        if (it == receivers_.end() || !it->second.attached || it->second.receiver->finishing())
            continue;
        Receiver &r = it->second;
        if (r.receiver->mediaIdle() <= kIdleAtRejoin)
            continue;
        const std::string peerId = r.peerId;
        r.attached = false;
        r.receiver->finish("its media stopped during the signaling outage");
        if (members_.count(peerId) && !members_[peerId].retryTimer)
            startReceiver(peerId, members_[peerId].name);
    }
}

void RoomSession::onMessage(const protocol::ServerMessage &message)
{
    if (const auto *joined = std::get_if<protocol::PeerJoined>(&message)) {
        onPeerJoined(joined->peer);
    } else if (const auto *left = std::get_if<protocol::PeerLeft>(&message)) {
        onPeerLeft(left->id);
    } else if (const auto *desc = std::get_if<protocol::Description>(&message)) {
        if (desc->type != protocol::Type::answer) {
            RC_LOG_WARN("gateway: room %s: ignoring an offer from %s (the gateway only offers)",
                settings_.room.c_str(), desc->from.c_str());
            return;
        }
        if (Receiver *r = attachedTo(desc->from))
            r->receiver->handleAnswer(desc->sdp);
        else
            RC_LOG_WARN("gateway: room %s: answer from %s, whom we did not offer to",
                settings_.room.c_str(), desc->from.c_str());
    } else if (const auto *cand = std::get_if<protocol::RemoteCandidate>(&message)) {
        if (Receiver *r = attachedTo(cand->from))
            r->receiver->handleCandidate(cand->candidate);
    } else if (const auto *err = std::get_if<protocol::ServerError>(&message)) {
        RC_LOG_WARN("gateway: room %s: server says %s: %s", settings_.room.c_str(),
            err->code.c_str(), err->message.c_str());
    }
}

void RoomSession::onPeerJoined(const protocol::PeerInfo &peer)
{
    RC_LOG_INFO("gateway: room %s: %s (%s) joined", settings_.room.c_str(), peer.id.c_str(),
        nameOrDash(peer.name).c_str());
    if (stopping_)
        return;
    if (Receiver *stale = attachedTo(peer.id))
        detach(*stale, "its id now names a new member");
    members_[peer.id] = Member { peer.name, std::chrono::system_clock::now(), 0, nullptr };
    manifest_.participantJoined(peer.id, peer.name, std::chrono::system_clock::now());
    if (events_.participantJoined)
        events_.participantJoined(participantInfo(peer.id));
    startReceiver(peer.id, peer.name);
}

void RoomSession::onPeerLeft(const std::string &id)
{
    RC_LOG_INFO("gateway: room %s: %s left", settings_.room.c_str(), id.c_str());
    if (members_.count(id)) {
        ParticipantInfo info = participantInfo(id);
        members_.erase(id);
        manifest_.participantLeft(id, std::chrono::system_clock::now());
        if (events_.participantLeft)
            events_.participantLeft(info);
    }
    if (Receiver *r = attachedTo(id)) {
        r->attached = false;
        r->receiver->finish("left the room");
    }
}

void RoomSession::detach(Receiver &r, const char *why)
{
    RC_LOG_INFO("gateway: room %s: receiver for %s detached (%s); it records while its media flows",
        settings_.room.c_str(), r.peerId.c_str(), why);
    r.attached = false;
    if (!r.receiver->mediaFlowing())
        r.receiver->finish("detached without media");
}

RoomSession::Receiver *RoomSession::attachedTo(const std::string &peerId)
{
    for (auto &[serial, r] : receivers_)
        if (r.attached && r.peerId == peerId && !r.receiver->finishing())
            return &r;
    return nullptr;
}

void RoomSession::startReceiver(const std::string &peerId, const std::optional<std::string> &name)
{
    // Every running participant-scope output gets an instance; with none the
    // participant is still received (to fakesinks), so outputs started later
    // through the control API can attach.
    std::vector<std::unique_ptr<ParticipantOutput>> outputs = outputs_.instancesFor(peerId);

    const unsigned serial = nextSerial_++;
    std::weak_ptr<RoomSession *> weak = self_;
    auto alive = [weak]() -> RoomSession * {
        auto s = weak.lock();
        return s ? *s : nullptr;
    };
    PeerReceiver::Callbacks callbacks;
    callbacks.sendOffer = [this, peerId](const std::string &sdp) {
        if (!signaling_->send(protocol::encodeOffer(peerId, sdp)))
            RC_LOG_WARN("gateway: room %s: offer to %s not sent (signaling down)",
                settings_.room.c_str(), peerId.c_str());
    };
    callbacks.sendCandidate = [this, peerId](const protocol::Candidate &c) {
        signaling_->send(protocol::encodeCandidate(peerId, c));
    };
    callbacks.outputStarted
        = [this, peerId](ParticipantOutput &out, std::chrono::system_clock::time_point at) {
              if (auto it = members_.find(peerId); it != members_.end())
                  it->second.failures = 0;
              outputs_.participantOutputStarted(peerId, out, at);
          };
    callbacks.outputFinished = [this, peerId](ParticipantOutput &out) {
        outputs_.participantOutputFinished(peerId, out);
    };
    callbacks.failed = [alive, serial](const std::string &reason) {
        if (RoomSession *s = alive())
            s->onReceiverFailed(serial, reason);
    };
    callbacks.finished = [alive, serial] {
        if (RoomSession *s = alive())
            s->onReceiverFinished(serial);
    };
    callbacks.keyframeRequested = [alive] {
        if (RoomSession *s = alive(); s && s->events_.keyframeRequested)
            s->events_.keyframeRequested();
    };
    callbacks.outputError = [alive, serial](ParticipantOutput &out, const std::string &message) {
        if (RoomSession *s = alive())
            s->outputs_.participantOutputError(serial, out, message);
    };

    auto receiver = std::make_unique<PeerReceiver>(
        context_, peerId, settings_.receiver, std::move(outputs), std::move(callbacks));
    Receiver &r = receivers_[serial];
    r.peerId = peerId;
    r.name = name;
    r.receiver = std::move(receiver);
    outputs_.receiverAdded(serial, peerId, *r.receiver);
    std::string error;
    if (!r.receiver->start(error)) {
        RC_LOG_ERROR("gateway: room %s: cannot receive from %s: %s", settings_.room.c_str(),
            peerId.c_str(), error.c_str());
        r.receiver->finish("start failed");
        return;
    }
    RC_LOG_INFO("gateway: room %s: offering to %s (%s)", settings_.room.c_str(), peerId.c_str(),
        nameOrDash(name).c_str());
}

void RoomSession::onReceiverFailed(unsigned serial, const std::string &reason)
{
    auto it = receivers_.find(serial);
    if (it == receivers_.end())
        return;
    Receiver &r = it->second;
    const bool retry = r.attached && !stopping_ && members_.count(r.peerId);
    r.attached = false;
    r.receiver->finish(reason);
    if (retry)
        scheduleRetry(r.peerId);
}

void RoomSession::scheduleRetry(const std::string &peerId)
{
    Member &member = members_[peerId];
    auto delay = std::min(kRetryMax, kRetryMin * (1u << std::min(member.failures, 5u)));
    ++member.failures;
    RC_LOG_INFO("gateway: room %s: offering to %s again in %lld ms", settings_.room.c_str(),
        peerId.c_str(), static_cast<long long>(delay.count()));
    std::weak_ptr<RoomSession *> weak = self_;
    member.retryTimer = addTimeout(context_, delay, [weak, peerId] {
        auto s = weak.lock();
        if (!s || !*s)
            return false;
        RoomSession *self = *s;
        // Release the timer from a later dispatch, not from inside this one.
        post(self->context_, [weak, peerId] {
            auto s2 = weak.lock();
            if (!s2 || !*s2)
                return;
            RoomSession *room = *s2;
            auto it = room->members_.find(peerId);
            if (it == room->members_.end())
                return;
            it->second.retryTimer.reset();
            if (!room->stopping_ && !room->attachedTo(peerId))
                room->startReceiver(peerId, it->second.name);
        });
        return false;
    });
}

void RoomSession::onReceiverFinished(unsigned serial)
{
    auto it = receivers_.find(serial);
    if (it == receivers_.end())
        return;
    const std::string peerId = it->second.peerId;
    receivers_.erase(it);
    outputs_.receiverFinished(serial, peerId);
    checkStopped();
}

void RoomSession::stop(std::function<void()> done)
{
    if (stopping_)
        return;
    stopping_ = true;
    stopDone_ = std::move(done);
    rejoinCheck_.reset();
    for (auto &[id, member] : members_)
        member.retryTimer.reset();
    for (auto &[serial, r] : receivers_)
        r.receiver->finish("gateway stopping");
    outputs_.closeRoom();
    if (signaling_)
        signaling_->stop(); // sends leave
    checkStopped();
}

void RoomSession::checkStopped()
{
    if (!stopping_ || !receivers_.empty() || !stopDone_ || !outputs_.roomScopeSettled())
        return;
    // Taken first: completing the outputs below calls back in here.
    auto done = std::move(stopDone_);
    stopDone_ = nullptr;
    outputs_.endAll();
    manifest_.sessionEnded(std::chrono::system_clock::now());
    post(context_, std::move(done));
}

ParticipantInfo RoomSession::participantInfo(const std::string &id) const
{
    ParticipantInfo info;
    info.id = id;
    if (auto it = members_.find(id); it != members_.end()) {
        info.name = it->second.name;
        info.joinedAt = it->second.joinedAt;
    }
    for (const auto &[serial, r] : receivers_) {
        if (r.peerId != id || !r.attached)
            continue;
        info.codecs = r.receiver->negotiatedCodecs();
        const auto &st = r.receiver->stats();
        info.receiveBitrateBps = st.receiveBitrateBps;
        info.packetsReceived = st.packetsReceived;
        info.packetsLost = st.packetsLost;
    }
    return info;
}

std::vector<ParticipantInfo> RoomSession::participants() const
{
    std::vector<ParticipantInfo> out;
    for (const auto &[id, member] : members_)
        out.push_back(participantInfo(id));
    return out;
}

} // namespace rc::gateway
