// Room membership and per-peer session routing for a visible participant; see participant.h.
#include "testpeer/participant.h"

#include "common/base/log.h"

namespace rc::testpeer {
namespace {

SignalingClient::Options clientOptions(const Participant::Options &o)
{
    SignalingClient::Options c;
    c.url = o.url;
    c.join.room = o.room;
    if (!o.name.empty())
        c.join.name = o.name;
    c.join.hidden = false;
    c.join.token = o.token;
    return c;
}

} // namespace

Participant::Participant(GMainContext *context, GstBin *pipeline, const TrackSource &tracks,
    Options options, Callbacks callbacks)
    : context_(context)
    , pipeline_(pipeline)
    , tracks_(tracks)
    , options_(std::move(options))
    , callbacks_(std::move(callbacks))
    , client_(context, clientOptions(options_),
          SignalingClient::Callbacks {
              [this](const protocol::Welcome &w) { onWelcome(w); },
              [this](const protocol::ServerMessage &m) { onMessage(m); },
              [this](const std::string &reason) { onDisconnected(reason); },
              [this](const std::string &code, const std::string &) {
                  if (callbacks_.onFatal)
                      callbacks_.onFatal(code);
              },
          })
{ }

Participant::~Participant()
{
    self_.invalidate();
    removeAllSessions();
}

void Participant::start()
{
    client_.start();
}

void Participant::stop()
{
    if (stopped_)
        return;
    stopped_ = true;
    removeAllSessions();
    bool wasJoined = joined();
    client_.stop();
    if (wasJoined)
        RC_LOG_INFO("%sleft", options_.logPrefix.c_str());
}

size_t Participant::connectedPeers() const noexcept
{
    size_t n = 0;
    for (const auto &[id, s] : sessions_)
        n += s->connected() ? 1 : 0;
    return n;
}

bool Participant::handleElementError(GstObject *element, const std::string &message)
{
    for (const auto &[id, s] : sessions_) {
        if (s->owns(element)) {
            removeSession(id, message);
            return true;
        }
    }
    return false;
}

PeerSession &Participant::session(const std::string &peerId)
{
    auto &slot = sessions_[peerId];
    if (!slot) {
        PeerSession::Environment env { context_, pipeline_, &tracks_, options_.iceAddresses,
            options_.logPrefix };
        slot = std::make_unique<PeerSession>(
            env, peerId, [this](const std::string &json) { return client_.send(json); },
            [ref = self_.ref()](const std::string &id, const std::string &why) {
                if (Participant *self = ref.lock())
                    self->removeSession(id, why);
            },
            [this](const std::string &id) {
                if (callbacks_.onPeerConnected)
                    callbacks_.onPeerConnected(id);
            });
    }
    return *slot;
}

void Participant::removeSession(const std::string &peerId, const std::string &why)
{
    auto it = sessions_.find(peerId);
    if (it == sessions_.end())
        return;
    RC_LOG_INFO(
        "%sclosing session with %s: %s", options_.logPrefix.c_str(), peerId.c_str(), why.c_str());
    auto doomed = std::move(it->second);
    sessions_.erase(it);
    doomed.reset();
}

void Participant::removeAllSessions()
{
    hiddenPeers_.clear();
    auto all = std::move(sessions_);
    sessions_.clear();
    all.clear();
}

void Participant::onWelcome(const protocol::Welcome &welcome)
{
    // A rejoin makes us a new member: every old session is void.
    removeAllSessions();
    RC_LOG_INFO("%sjoined room %s as %s", options_.logPrefix.c_str(), welcome.room.c_str(),
        welcome.id.c_str());
    if (welcome.recording)
        RC_LOG_INFO("%sthis room is being recorded", options_.logPrefix.c_str());
    if (!options_.mesh)
        return;
    // The mesh rule: the member that joins later offers to every visible peer.
    for (const auto &peer : welcome.peers) {
        if (!session(peer.id).startOffer())
            removeSession(peer.id, "cannot start an offer");
    }
}

void Participant::onMessage(const protocol::ServerMessage &message)
{
    const std::string &p = options_.logPrefix;
    if (auto *joined = std::get_if<protocol::PeerJoined>(&message)) {
        RC_LOG_INFO("%speer %s joined", p.c_str(), joined->peer.id.c_str());
    } else if (auto *left = std::get_if<protocol::PeerLeft>(&message)) {
        removeSession(left->id, "peer left");
    } else if (auto *desc = std::get_if<protocol::Description>(&message)) {
        if (desc->type == protocol::Type::offer) {
            // An offer that crosses ours (glare) restarts the session as the
            // answerer; an offer on an established session renegotiates it
            // (ICE restart) in the same webrtcbin.
            auto it = sessions_.find(desc->from);
            if (it != sessions_.end() && it->second->awaitingAnswer())
                removeSession(desc->from, "their offer crossed ours");
            if (desc->hidden)
                hiddenPeers_.insert(desc->from);
            session(desc->from).handleOffer(desc->sdp);
        } else {
            auto it = sessions_.find(desc->from);
            if (it != sessions_.end())
                it->second->handleAnswer(desc->sdp);
            else
                RC_LOG_WARN(
                    "%sanswer from %s, to whom we made no offer", p.c_str(), desc->from.c_str());
        }
    } else if (auto *cand = std::get_if<protocol::RemoteCandidate>(&message)) {
        auto it = sessions_.find(cand->from);
        if (it != sessions_.end())
            it->second->handleCandidate(cand->candidate);
        else
            RC_LOG_DEBUG(
                "%scandidate from %s before any description", p.c_str(), cand->from.c_str());
    } else if (auto *rec = std::get_if<protocol::RecordingNotice>(&message)) {
        RC_LOG_INFO("%srecording %s", p.c_str(), rec->active ? "started" : "stopped");
        // Hidden members leave unannounced (the spec sends peer-left for
        // visible ones only); the last one's leaving ends recording.
        if (!rec->active) {
            auto hidden = std::move(hiddenPeers_);
            hiddenPeers_.clear();
            for (const auto &id : hidden)
                removeSession(id, "the room is no longer recorded");
        }
    } else if (auto *err = std::get_if<protocol::ServerError>(&message)) {
        RC_LOG_WARN("%sserver error %s: %s", p.c_str(), err->code.c_str(), err->message.c_str());
    }
}

void Participant::onDisconnected(const std::string &reason)
{
    RC_LOG_WARN(
        "%sdisconnected from the room server: %s", options_.logPrefix.c_str(), reason.c_str());
    removeAllSessions();
}

} // namespace rc::testpeer
