// One room's hidden membership, receivers, files and manifest; see room_session.h (its outputs
// are RoomOutputs, room_outputs.cpp).
#include "gateway/room/room_session.h"

#include "common/base/log.h"
#include "common/base/main_context.h"

#include <utility>

namespace rc::gateway {
namespace {

// At the recheck after a rejoin (Membership::kRejoinCheckDelay), how much
// silence means the client dropped us (audio alone arrives every 20 ms).
constexpr std::chrono::milliseconds kIdleAtRejoin { 700 };

// How long a stranded receiver (no offer can reach its peer connection since a signaling drop)
// waits in a network gap for its connection to come back by itself before it fails and its
// member is offered to anew: Chromium gives up a connection that it gets no answer on after
// about 30 s (its consent and dead-connection timeouts), after which nothing comes back.
constexpr std::chrono::milliseconds kStrandedWindow { 35000 };
constexpr std::chrono::milliseconds kStrandedWatchPeriod { 1000 };

// std::visit over a set of lambdas.
template <typename... F> struct Overloaded : F...
{
    using F::operator()...;
};
template <typename... F> Overloaded(F...) -> Overloaded<F...>;

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
    , log_(rc::log::Logger("gateway").child("room " + settings_.room))
    , whip_(context, settings_.room, settings_.receiver, outputs_, manifest_,
          { [this](const ParticipantInfo &info) {
               if (events_.participantJoined)
                   events_.participantJoined(info);
           },
              [this](const ParticipantInfo &info) {
                  if (events_.participantLeft)
                      events_.participantLeft(info);
              },
              [this] {
                  if (events_.keyframeRequested)
                      events_.keyframeRequested();
              },
              [this] { checkStopped(); } })
    , outputs_(context,
          { settings_.room, settings_.recordingsDir, settings_.sessionStart,
              settings_.receiver.finalizeTimeout },
          layout_, manifest_,
          { [this] {
               std::vector<RoomOutputs::ReceiverRef> refs;
               for (auto &[serial, r] : receivers_)
                   refs.push_back({ serial, r.peerId, r.receiver.get() });
               whip_.appendReceivers(refs);
               return refs;
           },
              [this] { return stopping_; }, [this] { checkStopped(); } })
{ }

RoomSession::~RoomSession()
{
    self_.invalidate();
    signaling_.reset();
    receivers_.clear();
    whip_.clear();
    // outputs_ goes next (stops its composites), with nobody left to feed them.
}

bool RoomSession::start(std::string &error)
{
    if (!layout_.ensureSessionDir(error))
        return false;
    if (std::string why;
        settings_.plan.continues && manifest_.load(settings_.plan.manifestText, why))
        manifest_.continueAfterRestart(settings_.plan.lastKnownOffset);
    else if (settings_.plan.continues)
        log_.warn("cannot continue the session: %s", why.c_str());
    else if (!settings_.plan.previousSession.empty())
        manifest_.setPreviousSession(settings_.plan.previousSession);
    std::string writeError;
    if (!manifest_.write(writeError)) {
        error = "cannot write " + layout_.manifestPath() + ": " + writeError;
        return false;
    }
    log_.info("recording into %s", layout_.sessionDir().c_str());
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
        if (std::exchange(joined_, false)) {
            log_.warn("signaling lost (%s); media keeps flowing, rejoining", reason.c_str());
            droppedAt_ = std::chrono::steady_clock::now();
            if (!stopping_)
                strandReceivers();
        }
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

void RoomSession::run(MembershipCommands commands)
{
    using namespace membership;
    const auto execute = Overloaded {
        [this](StartReceiver &c) { startReceiver(c.serial, c.peerId, c.name); },
        [this](Reattach &c) {
            auto it = receivers_.find(c.serial);
            if (it == receivers_.end())
                return;
            it->second.sendTo = c.to;
            it->second.attached = true;
            log_.info("receiver for %s continues as %s's (same name; its connection may have "
                      "outlived the rejoin, or come back by itself)",
                c.from.c_str(), c.to.c_str());
        },
        [this](Detach &c) { detach(c.serial, c.why, c.waiting); },
        [this](Finish &c) {
            auto it = receivers_.find(c.serial);
            if (it == receivers_.end())
                return;
            if (c.detach)
                it->second.attached = false;
            it->second.receiver->finish(c.reason);
        },
        [this](Reconnect &c) { reconnect(c.serial, c.reason, c.delay); },
        [this](ScheduleRecheck &c) {
            // One timer per recheck: the welcome's and those of members re-attached later.
            const unsigned key = ++rejoinChecksMade_;
            rejoinChecks_[key] = addTimeout(
                context_, c.delay, [ref = self_.ref(), key, serials = std::move(c.serials)] {
                    if (RoomSession *self = ref.lock())
                        self->recheckAfterRejoin(key, serials);
                    return false;
                });
        },
        [this](CancelRecheck &) { rejoinChecks_.clear(); },
        [this](ScheduleRetry &c) { scheduleRetry(c.peerId, c.delay); },
        [this](CancelRetry &c) { retryTimers_.erase(c.peerId); },
        [this](MemberJoined &c) {
            const auto now = std::chrono::system_clock::now();
            members_[c.peerId] = Member { c.name, now };
            if (!c.announce)
                return;
            manifest_.participantJoined(c.peerId, c.name, now);
            if (events_.participantJoined)
                events_.participantJoined(participantInfo(c.peerId));
        },
        [this](MemberLeft &c) {
            ParticipantInfo info = participantInfo(c.peerId);
            members_.erase(c.peerId);
            manifest_.participantLeft(c.peerId, std::chrono::system_clock::now());
            if (events_.participantLeft)
                events_.participantLeft(info);
        },
    };
    for (auto &command : commands)
        std::visit(execute, command);
}

void RoomSession::onWelcome(const protocol::Welcome &welcome)
{
    ++welcomes_;
    joined_ = true;
    log_.info("%s as hidden member %s; %zu visible peer(s)", welcomes_ == 1 ? "joined" : "rejoined",
        welcome.id.c_str(), welcome.peers.size());
    run(membership_.welcome(welcome.peers, awayAtRejoin()));
}

void RoomSession::strandReceivers()
{
    bool any = false;
    for (auto &[serial, r] : receivers_) {
        if (r.receiver->finishing())
            continue;
        r.stranded = true;
        r.receiver->stopIceRestarts();
        any = true;
    }
    if (any && !strandedWatch_)
        strandedWatch_
            = addTimeout(context_, kStrandedWatchPeriod, [this] { return watchStranded(); });
}

std::vector<unsigned> RoomSession::awayAtRejoin() const
{
    std::vector<unsigned> away;
    if (!droppedAt_)
        return away;
    const auto sinceDrop = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - *droppedAt_);
    for (const auto &[serial, r] : receivers_)
        if (r.attached && r.receiver->mediaSeen()
            && Membership::awayAtRejoin(r.receiver->mediaIdle(), sinceDrop))
            away.push_back(serial);
    return away;
}

bool RoomSession::watchStranded()
{
    std::vector<unsigned> lost;
    bool any = false;
    for (auto &[serial, r] : receivers_) {
        if (!r.stranded || r.receiver->finishing())
            continue;
        any = true;
        if (r.gap == ParticipantHealth::Gap::Network && r.receiver->mediaIdle() > kStrandedWindow)
            lost.push_back(serial);
    }
    for (unsigned serial : lost)
        onReceiverFailed(serial,
            "its connection did not come back within "
                + std::to_string(kStrandedWindow.count() / 1000)
                + " s, and no offer can reach it since the signaling dropped");
    if (!any) // Released from a later dispatch: this is the timer's own.
        releaseLater(context_, std::move(strandedWatch_));
    return any;
}

void RoomSession::recheckAfterRejoin(unsigned key, const std::vector<unsigned> &serials)
{
    // Released from a later dispatch: this is the timer's own.
    if (auto it = rejoinChecks_.find(key); it != rejoinChecks_.end()) {
        releaseLater(context_, std::move(it->second));
        rejoinChecks_.erase(it);
    }
    std::vector<unsigned> mediaStopped, reconnectable;
    for (unsigned serial : serials) {
        auto it = receivers_.find(serial);
        if (it == receivers_.end() || it->second.receiver->mediaIdle() <= kIdleAtRejoin)
            continue;
        mediaStopped.push_back(serial);
        if (it->second.receiver->canReconnect())
            reconnectable.push_back(serial);
    }
    run(membership_.recheckAfterRejoin(mediaStopped, reconnectable));
}

void RoomSession::onMessage(const protocol::ServerMessage &message)
{
    if (const auto *joined = std::get_if<protocol::PeerJoined>(&message)) {
        onPeerJoined(joined->peer);
    } else if (const auto *left = std::get_if<protocol::PeerLeft>(&message)) {
        onPeerLeft(left->id);
    } else if (const auto *desc = std::get_if<protocol::Description>(&message)) {
        if (desc->type != protocol::Type::answer) {
            log_.warn("ignoring an offer from %s (the gateway only offers)", desc->from.c_str());
            return;
        }
        if (Receiver *r = attachedTo(desc->from))
            r->receiver->handleAnswer(desc->sdp);
        else
            log_.warn("answer from %s, whom we did not offer to", desc->from.c_str());
    } else if (const auto *cand = std::get_if<protocol::RemoteCandidate>(&message)) {
        if (Receiver *r = attachedTo(cand->from))
            r->receiver->handleCandidate(cand->candidate);
    } else if (const auto *err = std::get_if<protocol::ServerError>(&message)) {
        log_.warn("server says %s: %s", err->code.c_str(), err->message.c_str());
    }
}

void RoomSession::onPeerJoined(const protocol::PeerInfo &peer)
{
    log_.info("%s (%s) joined", peer.id.c_str(), nameOrDash(peer.name).c_str());
    run(membership_.peerJoined(peer));
}

void RoomSession::onPeerLeft(const std::string &id)
{
    log_.info("%s left", id.c_str());
    run(membership_.peerLeft(id));
}

void RoomSession::detach(unsigned serial, const std::string &why, bool waiting)
{
    auto it = receivers_.find(serial);
    if (it == receivers_.end())
        return;
    Receiver &r = it->second;
    if (waiting) {
        // Away and stranded: it ends if its connection does not come back (watchStranded).
        log_.info("receiver for %s waits (%s)", r.peerId.c_str(), why.c_str());
        r.attached = false;
        return;
    }
    log_.info("receiver for %s detached (%s); it records while its media flows", r.peerId.c_str(),
        why.c_str());
    r.attached = false;
    r.receiver->detach();
    if (!r.receiver->mediaFlowing())
        r.receiver->finish("detached without media");
}

RoomSession::Receiver *RoomSession::attachedTo(const std::string &peerId)
{
    auto serial = membership_.attachedTo(peerId);
    auto it = serial ? receivers_.find(*serial) : receivers_.end();
    return it == receivers_.end() ? nullptr : &it->second;
}

void RoomSession::startReceiver(
    unsigned serial, const std::string &peerId, const std::optional<std::string> &name)
{
    // Every running participant-scope output gets an instance; with none the
    // participant is still received (to fakesinks), so outputs started later
    // through the control API can attach.
    std::vector<std::unique_ptr<ParticipantOutput>> outputs = outputs_.instancesFor(peerId);

    const auto alive = self_.ref();
    // Files, manifest entries and gaps stay under the id the receiver was made for; offers and
    // candidates go to its member's current id (a Reattach changes it), looked up when sent.
    const auto sendTo = [this, serial, peerId] {
        auto it = receivers_.find(serial);
        return it == receivers_.end() ? peerId : it->second.sendTo;
    };
    PeerReceiver::Callbacks callbacks;
    callbacks.sendOffer = [this, sendTo](const std::string &sdp) {
        const std::string to = sendTo();
        if (!signaling_->send(protocol::encodeOffer(to, sdp)))
            log_.warn("offer to %s not sent (signaling down)", to.c_str());
    };
    callbacks.sendCandidate = [this, sendTo](const protocol::Candidate &c) {
        signaling_->send(protocol::encodeCandidate(sendTo(), c));
    };
    callbacks.outputStarted
        = [this, peerId, sendTo](ParticipantOutput &out, std::chrono::system_clock::time_point at) {
              membership_.outputStarted(sendTo());
              outputs_.participantOutputStarted(peerId, out, at);
          };
    callbacks.outputFinished = [this, peerId](ParticipantOutput &out) {
        outputs_.participantOutputFinished(peerId, out);
    };
    callbacks.failed = [alive, serial](const std::string &reason) {
        if (RoomSession *s = alive.lock())
            s->onReceiverFailed(serial, reason);
    };
    callbacks.finished = [alive, serial] {
        if (RoomSession *s = alive.lock())
            s->onReceiverFinished(serial);
    };
    callbacks.gap = [this, peerId, serial, sendTo](ParticipantHealth::Gap cause, bool started,
                        std::chrono::system_clock::time_point at) {
        if (auto it = receivers_.find(serial); it != receivers_.end()) {
            it->second.gap = started ? cause : ParticipantHealth::Gap::None;
            // Media is back (not a receiver ending): a later failure starts the retry schedule
            // over, as an output's start does.
            if (!started && !it->second.receiver->finishing())
                membership_.outputStarted(sendTo());
        }
        const auto manifestCause = cause == ParticipantHealth::Gap::SenderPaused
            ? Manifest::GapCause::SenderPaused
            : Manifest::GapCause::Network;
        if (started)
            manifest_.gapStarted(peerId, "", manifestCause, manifest_.offsetOf(at));
        else
            manifest_.gapEnded(peerId, "", manifestCause, manifest_.offsetOf(at));
    };
    callbacks.keyframeRequested = [alive] {
        if (RoomSession *s = alive.lock(); s && s->events_.keyframeRequested)
            s->events_.keyframeRequested();
    };
    callbacks.outputError = [alive, serial](ParticipantOutput &out, const std::string &message) {
        if (RoomSession *s = alive.lock())
            s->outputs_.participantOutputError(serial, out, message);
    };

    auto receiver = std::make_unique<PeerReceiver>(
        context_, peerId, settings_.receiver, std::move(outputs), std::move(callbacks));
    Receiver &r = receivers_[serial];
    r.peerId = peerId;
    r.sendTo = peerId;
    r.receiver = std::move(receiver);
    outputs_.receiverAdded(serial, peerId, *r.receiver);
    std::string error;
    if (!r.receiver->start(error)) {
        log_.error("cannot receive from %s: %s", peerId.c_str(), error.c_str());
        membership_.receiverStartFailed(serial);
        r.receiver->finish("start failed");
        return;
    }
    log_.info("offering to %s (%s)", peerId.c_str(), nameOrDash(name).c_str());
}

void RoomSession::onReceiverFailed(unsigned serial, const std::string &reason)
{
    if (auto r = receivers_.find(serial); r != receivers_.end())
        if (auto m = members_.find(r->second.peerId); m != members_.end())
            m->second.lastFailure = reason;
    auto it = receivers_.find(serial);
    const bool reconnectable = it != receivers_.end() && it->second.receiver->canReconnect();
    run(membership_.receiverFailed(serial, reason, reconnectable));
}

void RoomSession::reconnect(
    unsigned serial, const std::string &reason, std::chrono::milliseconds delay)
{
    auto it = receivers_.find(serial);
    if (it == receivers_.end())
        return;
    // Its new connection will be offered to: no longer stranded (nor failed again for that).
    it->second.stranded = false;
    // A later Reconnect (a rejoin's recheck) replaces one still pending; the timer's own call
    // has already taken it out.
    it->second.reconnectTimer.reset();
    if (delay.count() > 0) {
        log_.info("a new peer connection to %s in %lld ms", it->second.sendTo.c_str(),
            static_cast<long long>(delay.count()));
        it->second.reconnectTimer
            = addTimeout(context_, delay, [ref = self_.ref(), serial, reason] {
                  if (RoomSession *self = ref.lock()) {
                      if (auto r = self->receivers_.find(serial); r != self->receivers_.end())
                          // Released from a later dispatch: this is the timer's own.
                          releaseLater(self->context_, std::move(r->second.reconnectTimer));
                      self->reconnect(serial, reason, std::chrono::milliseconds(0));
                  }
                  return false;
              });
        return;
    }
    Receiver &r = it->second;
    if (r.receiver->finishing())
        return;
    if (r.receiver->reconnect(reason))
        log_.info("offering to %s on a new peer connection (same files)", r.sendTo.c_str());
}

void RoomSession::scheduleRetry(const std::string &peerId, std::chrono::milliseconds delay)
{
    log_.info(
        "offering to %s again in %lld ms", peerId.c_str(), static_cast<long long>(delay.count()));
    retryTimers_[peerId] = addTimeout(context_, delay, [ref = self_.ref(), peerId] {
        RoomSession *self = ref.lock();
        if (!self)
            return false;
        // Released from a later dispatch: this is the timer's own.
        if (auto it = self->retryTimers_.find(peerId); it != self->retryTimers_.end()) {
            releaseLater(self->context_, std::move(it->second));
            self->retryTimers_.erase(it);
        }
        self->run(self->membership_.retryDue(peerId));
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
    membership_.receiverFinished(serial);
    outputs_.receiverFinished(serial, peerId);
    checkStopped();
}

void RoomSession::stop(std::function<void()> done)
{
    if (stopping_)
        return;
    stopping_ = true;
    stopDone_ = std::move(done);
    run(membership_.stop());
    if (liveView_)
        liveView_->stop(); // viewers go first: the composites are about to stop
    whip_.stop();
    outputs_.closeRoom();
    if (signaling_)
        signaling_->stop(); // sends leave
    checkStopped();
}

WhepRoom *RoomSession::liveView()
{
    if (stopping_)
        return nullptr;
    if (!liveView_) {
        WhepRoom::Host host;
        host.acquireComposite
            = [this](std::string &error) { return outputs_.acquireLiveComposite(error); };
        host.releaseComposite = [this] { outputs_.releaseLiveComposite(); };
        liveView_ = std::make_unique<WhepRoom>(context_,
            WhepRoom::Settings { settings_.room, settings_.receiver.iceLocalAddresses },
            std::move(host));
        outputs_.setForeignBinError([this](GstElement *bin, const std::string &message) {
            if (liveView_ && liveView_->ownsBin(bin))
                liveView_->onBinError(message);
        });
    }
    return liveView_.get();
}

void RoomSession::checkStopped()
{
    if (!stopping_ || !receivers_.empty() || !whip_.idle() || !stopDone_
        || !outputs_.roomScopeSettled())
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
    std::string lastFailure;
    if (auto it = members_.find(id); it != members_.end()) {
        info.name = it->second.name;
        info.joinedAt = it->second.joinedAt;
        lastFailure = it->second.lastFailure;
    }
    if (!lastFailure.empty()) {
        info.connection = "retrying";
        info.connectionReason = lastFailure;
    }
    for (const auto &[serial, r] : receivers_) {
        if (r.sendTo != id || !r.attached)
            continue;
        info.connection = r.receiver->connectionState();
        info.connectionReason = r.receiver->connectionReason();
        // A new attempt that has not connected yet: the last one's failure is still the news.
        if (info.connection == "connecting" && info.connectionReason.empty())
            info.connectionReason = lastFailure;
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
    for (auto &info : whip_.participants())
        out.push_back(std::move(info));
    return out;
}

} // namespace rc::gateway
