// WHIP publishers as sources of a room; see whip_sources.h.
#include "gateway/room/whip_sources.h"

#include "common/base/main_context.h"
#include "gateway/participant/whip_offer.h"

#include <cstdio>
#include <utility>

namespace rc::gateway {
namespace {

// A resource id the publisher cannot guess for another's session (DELETE needs the token too).
std::string newSourceId()
{
    char text[32];
    std::snprintf(text, sizeof text, "whip-%08x%08x", g_random_int(), g_random_int());
    return text;
}

} // namespace

WhipSources::WhipSources(GMainContext *context, std::string room, PeerReceiver::Settings receiver,
    RoomOutputs &outputs, Manifest &manifest, Hooks hooks)
    : context_(context)
    , settings_(std::move(receiver))
    , outputs_(outputs)
    , manifest_(manifest)
    , hooks_(std::move(hooks))
    , log_(rc::log::Logger("gateway").child("room " + room).child("whip"))
{
    settings_.answerer = true;
    settings_.participantGrace = std::min(settings_.participantGrace, kGrace);
}

WhipSources::~WhipSources()
{
    self_.invalidate();
}

void WhipSources::clear()
{
    sources_.clear();
}

void WhipSources::publish(
    const std::string &offerText, const std::optional<std::string> &name, AnswerDone done)
{
    if (stopping_) {
        done({ 404, {}, {}, "the room's session is ending" });
        return;
    }
    if (sources_.size() >= kMaxSources) {
        done({ 503, {}, {},
            "this room has " + std::to_string(kMaxSources) + " publishers already" });
        return;
    }
    std::string error;
    auto offer = takeWhipOffer(offerText, settings_.videoCodecs, settings_.audioCodecs, error);
    if (!offer) {
        log_.info("offer refused: %s", error.c_str());
        done({ 400, {}, {}, error });
        return;
    }
    const std::string id = newSourceId();
    const unsigned serial = kSerialBase + ++made_;
    Source &s = sources_[id];
    s.serial = serial;
    s.name = name ? *name : "whip-" + std::to_string(made_);
    s.done = std::move(done);
    s.receiver = std::make_unique<PeerReceiver>(
        context_, id, settings_, outputs_.instancesFor(id), callbacks(id, serial));
    outputs_.receiverAdded(serial, id, *s.receiver);
    if (!s.receiver->start(error)) {
        log_.error("cannot receive from %s: %s", id.c_str(), error.c_str());
        onFailed(id, "the gateway could not start a receiver: " + error);
        return;
    }
    log_.info("%s (%s) offers video %s, audio %s", id.c_str(), s.name.c_str(),
        offer->videoCodec.empty() ? "none" : offer->videoCodec.c_str(),
        offer->audioCodec.empty() ? "none" : offer->audioCodec.c_str());
    s.receiver->acceptOffer(*offer);
}

PeerReceiver::Callbacks WhipSources::callbacks(const std::string &id, unsigned serial)
{
    // Called on the main context by a receiver this owns (so this lives), except for what is
    // posted: failed and finished hold the weak reference.
    const auto alive = self_.ref();
    PeerReceiver::Callbacks cb;
    cb.sendAnswer = [this, id](const std::string &sdp) { onAnswer(id, sdp); };
    cb.outputStarted
        = [this, id](ParticipantOutput &out, std::chrono::system_clock::time_point at) {
              outputs_.participantOutputStarted(id, out, at);
          };
    cb.outputFinished
        = [this, id](ParticipantOutput &out) { outputs_.participantOutputFinished(id, out); };
    cb.outputError = [this, serial](ParticipantOutput &out, const std::string &message) {
        outputs_.participantOutputError(serial, out, message);
    };
    cb.failed = [alive, id](const std::string &reason) {
        if (WhipSources *self = alive.lock())
            self->onFailed(id, reason);
    };
    cb.finished = [alive, id] {
        if (WhipSources *self = alive.lock())
            self->onFinished(id);
    };
    cb.gap = [this, id](ParticipantHealth::Gap cause, bool started,
                 std::chrono::system_clock::time_point at) {
        const auto manifestCause = cause == ParticipantHealth::Gap::SenderPaused
            ? Manifest::GapCause::SenderPaused
            : Manifest::GapCause::Network;
        if (started)
            manifest_.gapStarted(id, "", manifestCause, manifest_.offsetOf(at));
        else
            manifest_.gapEnded(id, "", manifestCause, manifest_.offsetOf(at));
    };
    cb.keyframeRequested = [this] {
        if (hooks_.keyframeRequested)
            hooks_.keyframeRequested();
    };
    return cb;
}

void WhipSources::onAnswer(const std::string &id, const std::string &sdp)
{
    auto it = sources_.find(id);
    if (it == sources_.end() || !it->second.done)
        return;
    Source &s = it->second;
    s.joined = true;
    s.joinedAt = std::chrono::system_clock::now();
    manifest_.participantJoined(id, s.name, s.joinedAt, "whip");
    log_.info("%s (%s) joined the room as a source", id.c_str(), s.name.c_str());
    auto done = std::exchange(s.done, nullptr);
    done({ 201, sdp, id, {} });
    // done may have ended it (the client went away): look it up again.
    if (auto again = sources_.find(id); again != sources_.end() && hooks_.joined)
        hooks_.joined(info(id, again->second));
}

void WhipSources::onFailed(const std::string &id, const std::string &reason)
{
    auto it = sources_.find(id);
    if (it == sources_.end())
        return;
    Source &s = it->second;
    if (auto done = std::exchange(s.done, nullptr)) {
        // Before the answer: the offer was refused by webrtcbin, or the receiver never started.
        const bool theirs = reason.find("offer") != std::string::npos;
        done({ theirs ? 400 : 500, {}, {}, reason });
    }
    log_.info("%s (%s) leaves: %s", id.c_str(), s.name.c_str(), reason.c_str());
    s.receiver->finish(reason);
}

bool WhipSources::end(const std::string &id)
{
    auto it = sources_.find(id);
    if (it == sources_.end() || it->second.receiver->finishing())
        return false;
    log_.info("%s (%s) ended by its publisher", id.c_str(), it->second.name.c_str());
    it->second.receiver->finish("the publisher ended the session (DELETE)");
    return true;
}

void WhipSources::stop()
{
    stopping_ = true;
    for (auto &[id, s] : sources_)
        s.receiver->finish("the room's session ends");
}

void WhipSources::onFinished(const std::string &id)
{
    auto it = sources_.find(id);
    if (it == sources_.end())
        return;
    const ParticipantInfo left = info(id, it->second);
    const bool joined = it->second.joined;
    const unsigned serial = it->second.serial;
    // The receiver is released from a later dispatch: this runs from its own posted call.
    rc::releaseLater(context_, std::move(it->second.receiver));
    sources_.erase(it);
    outputs_.receiverFinished(serial, id);
    if (joined) {
        manifest_.participantLeft(id, std::chrono::system_clock::now());
        if (hooks_.left)
            hooks_.left(left);
    }
    if (hooks_.finished)
        hooks_.finished();
}

ParticipantInfo WhipSources::info(const std::string &id, const Source &s) const
{
    ParticipantInfo info;
    info.id = id;
    info.name = s.name;
    info.joinedAt = s.joinedAt;
    info.source = "whip";
    info.connection = s.receiver->connectionState();
    info.connectionReason = s.receiver->connectionReason();
    info.codecs = s.receiver->negotiatedCodecs();
    const auto &st = s.receiver->stats();
    info.receiveBitrateBps = st.receiveBitrateBps;
    info.packetsReceived = st.packetsReceived;
    info.packetsLost = st.packetsLost;
    return info;
}

std::vector<ParticipantInfo> WhipSources::participants() const
{
    std::vector<ParticipantInfo> out;
    for (const auto &[id, s] : sources_)
        if (s.joined)
            out.push_back(info(id, s));
    return out;
}

void WhipSources::appendReceivers(std::vector<RoomOutputs::ReceiverRef> &refs) const
{
    for (const auto &[id, s] : sources_)
        refs.push_back({ s.serial, id, s.receiver.get() });
}

} // namespace rc::gateway
