// One room's hidden membership, receivers, files and manifest; see room_session.h.
#include "room_session.h"

#include "log.h"
#include "main_context.h"
#include "output_params.h"
#include "template_instance.h"

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
// A network output that failed is rebuilt after 250 ms, 500 ms, 1 s, then
// every 2 s, so it resumes within a few seconds of its server coming back;
// a run of 10 s resets the backoff.
constexpr std::chrono::milliseconds kNetRetryMin { 250 };
constexpr std::chrono::milliseconds kNetRetryMax { 2000 };
constexpr gint64 kNetRetryResetUs = 10 * G_USEC_PER_SEC;

uint64_t fileSize(const std::string &path)
{
    struct stat st
    {
    };
    if (path.empty() || ::stat(path.c_str(), &st) != 0)
        return 0;
    return static_cast<uint64_t>(st.st_size);
}

uint64_t folderSize(const std::string &dir)
{
    uint64_t total = 0;
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.is_regular_file(ec))
            total += entry.file_size(ec);
    return total;
}

int intParam(const std::map<std::string, std::string> &params, const char *name, int fallback)
{
    auto it = params.find(name);
    if (it == params.end() || it->second.empty())
        return fallback;
    try {
        return std::stoi(it->second);
    } catch (...) {
        return fallback;
    }
}

std::string nameOrDash(const std::optional<std::string> &name)
{
    return name ? *name : std::string("-");
}

} // namespace

// First buffer and running length of a room output, from a probe on its
// entry pad (a streaming thread of the mixer's pipeline); bytes of a network
// output from a probe on the sink that takes its URL.
struct RoomSession::RoomTap
{
    GMainContext *context = nullptr;
    std::weak_ptr<RoomSession *> owner;
    std::string outputId;
    std::atomic<bool> started { false };
    std::atomic<gint64> firstUs { 0 }, lastUs { 0 };
    std::atomic<uint64_t> bytes { 0 };

    static GstPadProbeReturn entryProbe(GstPad *, GstPadProbeInfo *, gpointer data) noexcept
    {
        auto *tap = static_cast<std::shared_ptr<RoomTap> *>(data)->get();
        const gint64 now = g_get_monotonic_time();
        tap->lastUs.store(now, std::memory_order_relaxed);
        if (!tap->started.exchange(true)) {
            tap->firstUs.store(now, std::memory_order_relaxed);
            auto at = std::chrono::system_clock::now();
            std::weak_ptr<RoomSession *> owner = tap->owner;
            std::string id = tap->outputId;
            post(tap->context, [owner, id, at] {
                if (auto s = owner.lock(); s && *s)
                    (*s)->onRoomOutputStarted(id, at);
            });
        }
        return GST_PAD_PROBE_OK;
    }
    static GstPadProbeReturn bytesProbe(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
    {
        auto *tap = static_cast<std::shared_ptr<RoomTap> *>(data)->get();
        if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
            tap->bytes.fetch_add(gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)),
                std::memory_order_relaxed);
        return GST_PAD_PROBE_OK;
    }
    static void release(gpointer data) noexcept { delete static_cast<std::shared_ptr<RoomTap> *>(data); }
    double seconds() const
    {
        const gint64 first = firstUs.load(std::memory_order_relaxed);
        const gint64 last = lastUs.load(std::memory_order_relaxed);
        return first && last > first ? static_cast<double>(last - first) / G_USEC_PER_SEC : 0.0;
    }
};

RoomSession::RoomSession(GMainContext *context, Settings settings, FatalCallback onFatal)
    : context_(context)
    , settings_(std::move(settings))
    , onFatal_(std::move(onFatal))
    , layout_(settings_.recordingsDir, settings_.room, settings_.sessionStart)
    , manifest_(layout_.manifestPath(), settings_.room, settings_.sessionStart)
    , self_(std::make_shared<RoomSession *>(this))
{ }

RoomSession::~RoomSession()
{
    *self_ = nullptr;
    signaling_.reset();
    receivers_.clear();
    for (auto &o : outputs_) {
        o->stopTimer.reset();
        o->roomRetry.timer.reset();
        o->retries.clear();
    }
    for (auto &[key, mixer] : mixers_)
        mixer->stop();
    mixers_.clear();
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
    // Every template the gateway started with becomes an output; room-scope
    // ones start their composite with the first participant (a broadcast or
    // file should not open with minutes of black before anyone is there).
    for (const auto &[tpl, params] : settings_.templates) {
        Output &o = createOutput(tpl, params);
        if (tpl.scope == TemplateScope::room)
            o.awaitingParticipant = true;
    }

    SignalingClient::Options options;
    options.url = settings_.signalingUrl;
    options.join.room = settings_.room;
    options.join.hidden = true;
    options.join.token = settings_.token;
    SignalingClient::Callbacks callbacks;
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
    signaling_
        = std::make_unique<SignalingClient>(context_, std::move(options), std::move(callbacks));
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
    std::vector<std::unique_ptr<ParticipantOutput>> outputs;
    for (auto &o : outputs_) {
        if (o->ended || o->stopping || o->tpl.scope != TemplateScope::participant)
            continue;
        std::string error;
        auto output = makeParticipantInstance(*o, peerId, error);
        if (!output) {
            RC_LOG_ERROR("gateway: room %s: %s: output %s (template %s): %s", settings_.room.c_str(),
                peerId.c_str(), o->id.c_str(), o->tpl.name.c_str(), error.c_str());
            continue;
        }
        outputs.push_back(std::move(output));
    }

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
              if (Output *o = findOutput(out.outputId())) {
                  if (o->state == "starting" || o->state == "retrying")
                      o->state = "running";
                  if (!o->startedAt) {
                      o->startedAt = at;
                      if (events_.outputStarted)
                          events_.outputStarted(infoOf(*o));
                  }
              }
              if (out.outputPath().empty()) {
                  RC_LOG_INFO("gateway: room %s: %s: output %s streaming to %s",
                      settings_.room.c_str(), peerId.c_str(), out.outputId().c_str(),
                      rc::ops::redactUrl(out.url()).c_str());
                  return;
              }
              manifest_.fileStarted(peerId, layout_.relativeToSession(out.outputPath()),
                  out.pipelineTemplate().name, out.codec(MediaKind::video),
                  out.codec(MediaKind::audio), manifest_.offsetOf(at));
              RC_LOG_INFO("gateway: room %s: %s started (%s %s)", settings_.room.c_str(),
                  out.outputPath().c_str(), out.codec(MediaKind::video).c_str(),
                  out.codec(MediaKind::audio).c_str());
          };
    callbacks.outputFinished = [this, peerId](ParticipantOutput &out) {
        if (!out.started()) {
            // Never got a buffer: an empty shell is not a recording.
            if (!out.outputPath().empty())
                ::unlink(out.outputPath().c_str());
            return;
        }
        if (Output *o = findOutput(out.outputId()))
            o->files.push_back({ out.outputPath(), peerId, out.durationSeconds(),
                out.outputPath().empty() ? out.bytesIn() : out.fileBytes() });
        if (out.outputPath().empty())
            return;
        manifest_.fileFinished(
            layout_.relativeToSession(out.outputPath()), out.durationSeconds(), out.fileBytes());
        RC_LOG_INFO("gateway: room %s: %s finished: %.1f s, %llu bytes", settings_.room.c_str(),
            out.outputPath().c_str(), out.durationSeconds(),
            static_cast<unsigned long long>(out.fileBytes()));
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
            s->onParticipantOutputError(serial, out, message);
    };

    auto receiver = std::make_unique<PeerReceiver>(
        context_, peerId, settings_.receiver, std::move(outputs), std::move(callbacks));
    Receiver &r = receivers_[serial];
    r.peerId = peerId;
    r.name = name;
    r.receiver = std::move(receiver);
    // Into every room composite, in join order.
    for (auto &[key, mixer] : mixers_) {
        auto feed = mixer->addParticipant(peerId);
        feeds_[key][serial] = feed;
        r.receiver->addMixFeed(std::move(feed));
    }
    // The first participant starts the composites waiting for one (a new
    // mixer takes every receiver, this one included).
    hadParticipant_ = true;
    startAwaitingRoomOutputs();
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
    for (auto &o : outputs_)
        o->retries.erase(serial);
    for (auto &[key, bySerial] : feeds_)
        bySerial.erase(serial);
    // Its tile goes, unless another receiver (a replacement) feeds the same id.
    bool replaced = false;
    for (const auto &[s, r] : receivers_)
        replaced = replaced || r.peerId == peerId;
    if (!replaced)
        for (auto &[key, mixer] : mixers_)
            mixer->removeParticipant(peerId);
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
    for (auto &o : outputs_) {
        o->retries.clear();
        o->roomRetry.timer.reset();
        if (o->tpl.scope == TemplateScope::room && !o->ended && !o->stopping) {
            o->stopping = true;
            o->state = "finishing";
            finishRoomOutput(*o);
        }
    }
    if (signaling_)
        signaling_->stop(); // sends leave
    checkStopped();
}

bool RoomSession::roomOutputsSettled() const
{
    for (const auto &o : outputs_)
        if (o->tpl.scope == TemplateScope::room && !o->ended)
            return false;
    return true;
}

void RoomSession::checkStopped()
{
    if (!stopping_ || !receivers_.empty() || !stopDone_ || !roomOutputsSettled())
        return;
    // Taken first: completing the outputs below calls back in here.
    auto done = std::move(stopDone_);
    stopDone_ = nullptr;
    // Every participant instance is closed: the participant-scope outputs are final.
    for (auto &o : outputs_)
        if (!o->ended)
            completeOutput(*o);
    for (auto &[key, mixer] : mixers_)
        mixer->stop();
    // Destroyed from a later dispatch: we may be inside one of its callbacks.
    auto doomed = std::make_shared<std::map<std::string, std::unique_ptr<RoomMixer>>>(std::move(mixers_));
    mixers_.clear();
    feeds_.clear();
    post(context_, [doomed] { doomed->clear(); });
    manifest_.sessionEnded(std::chrono::system_clock::now());
    post(context_, std::move(done));
}

// ---- outputs ----

bool RoomSession::network(const PipelineTemplate &tpl) const
{
    return std::any_of(tpl.params.begin(), tpl.params.end(),
        [](const TemplateParam &p) { return p.kind == TemplateParamKind::url; });
}

RoomSession::Output &RoomSession::createOutput(
    const PipelineTemplate &tpl, const std::map<std::string, std::string> &params)
{
    auto o = std::make_unique<Output>();
    o->id = tpl.name + "-" + std::to_string(++outputSerials_[tpl.name]);
    o->tpl = tpl;
    o->params = params;
    for (const auto &p : tpl.params)
        if (p.kind == TemplateParamKind::url)
            if (auto it = params.find(p.name); it != params.end())
                o->redactedUrl = rc::ops::redactUrl(it->second);
    outputs_.push_back(std::move(o));
    RC_LOG_INFO("gateway: room %s: output %s: template %s (%s scope)%s%s", settings_.room.c_str(),
        outputs_.back()->id.c_str(), tpl.name.c_str(), scopeName(tpl.scope),
        outputs_.back()->redactedUrl.empty() ? "" : " to ", outputs_.back()->redactedUrl.c_str());
    return *outputs_.back();
}

RoomSession::Output *RoomSession::findOutput(const std::string &id)
{
    for (auto &o : outputs_)
        if (o->id == id)
            return o.get();
    return nullptr;
}

const RoomSession::Output *RoomSession::findOutput(const std::string &id) const
{
    for (const auto &o : outputs_)
        if (o->id == id)
            return o.get();
    return nullptr;
}

std::unique_ptr<ParticipantOutput> RoomSession::makeParticipantInstance(
    const Output &o, const std::string &peerId, std::string &error)
{
    TemplateVariables vars { settings_.room, peerId, sessionStamp(settings_.sessionStart),
        settings_.recordingsDir, {} };
    std::string path;
    if (!o.tpl.extension.empty())
        path = layout_.participantFile(peerId, o.tpl.extension);
    auto output = ParticipantOutput::create(context_, o.tpl, vars, o.params, path, error);
    if (output)
        output->setOutputId(o.id);
    return output;
}

RoomMixer *RoomSession::ensureMixer(
    const std::map<std::string, std::string> &params, std::string &key, std::string &error)
{
    RoomMixer::Settings ms;
    ms.room = settings_.room;
    ms.width = intParam(params, "width", 1280);
    ms.height = intParam(params, "height", 720);
    ms.fps = intParam(params, "framerate", 30);
    key = std::to_string(ms.width) + "x" + std::to_string(ms.height) + "@" + std::to_string(ms.fps);
    if (auto it = mixers_.find(key); it != mixers_.end())
        return it->second.get();
    std::weak_ptr<RoomSession *> weak = self_;
    RoomMixer::Callbacks cb;
    cb.outputEos = [weak](GstElement *bin) {
        if (auto s = weak.lock(); s && *s)
            (*s)->onRoomOutputEos(bin);
    };
    cb.outputError = [weak](GstElement *bin, const std::string &message) {
        if (auto s = weak.lock(); s && *s)
            (*s)->onRoomOutputError(bin, message);
    };
    cb.failed = [weak, key](const std::string &message) {
        auto s = weak.lock();
        if (!s || !*s)
            return;
        RoomSession *self = *s;
        RC_LOG_ERROR("gateway: room %s: composite %s failed: %s", self->settings_.room.c_str(),
            key.c_str(), message.c_str());
        for (auto &o : self->outputs_)
            if (o->mixerKey == key && !o->ended) {
                o->bin.reset();
                self->completeOutput(*o, "the room composite failed: " + message);
            }
    };
    auto mixer = std::make_unique<RoomMixer>(context_, ms, std::move(cb));
    if (!mixer->start(error))
        return nullptr;
    RoomMixer *raw = mixer.get();
    mixers_[key] = std::move(mixer);
    // Everyone already here, in join order (receiver serials grow with time).
    for (auto &[serial, r] : receivers_) {
        if (r.receiver->finishing())
            continue;
        auto feed = raw->addParticipant(r.peerId);
        feeds_[key][serial] = feed;
        r.receiver->addMixFeed(std::move(feed));
    }
    return raw;
}

bool RoomSession::startRoomOutput(Output &o, std::string &error)
{
    RoomMixer *mixer = ensureMixer(o.params, o.mixerKey, error);
    if (!mixer)
        return false;
    return buildRoomInstance(o, error);
}

void RoomSession::startAwaitingRoomOutputs()
{
    for (auto &o : outputs_) {
        if (!o->awaitingParticipant)
            continue;
        o->awaitingParticipant = false;
        if (o->ended || o->stopping)
            continue;
        std::string why;
        if (!startRoomOutput(*o, why)) {
            RC_LOG_ERROR("gateway: room %s: output %s (template %s) cannot start: %s",
                settings_.room.c_str(), o->id.c_str(), o->tpl.name.c_str(), why.c_str());
            completeOutput(*o, why);
        }
    }
}

bool RoomSession::buildRoomInstance(Output &o, std::string &error)
{
    auto mixerIt = mixers_.find(o.mixerKey);
    if (mixerIt == mixers_.end()) {
        error = "no composite";
        return false;
    }
    TemplateVariables vars { settings_.room, "", sessionStamp(settings_.sessionStart),
        settings_.recordingsDir, {} };
    // One file per output for the whole session (a retried stream writes none).
    if (o.path.empty() && !o.tpl.extension.empty())
        o.path = layout_.roomFile(o.tpl.name, o.tpl.extension);
    auto instance = instantiateTemplate(o.tpl, vars, o.params, o.path, layout_.sessionDir(), error);
    if (!instance)
        return false;
    if (!instance->hlsDir.empty()) {
        o.hlsDir = instance->hlsDir;
        o.path = instance->hlsDir + "/playlist.m3u8";
    }
    auto tap = std::make_shared<RoomTap>();
    tap->context = context_;
    tap->owner = self_;
    tap->outputId = o.id;
    GstElement *bin = instance->bin.get();
    GPtr<GstPad> entry = adopt(gst_element_get_static_pad(bin, instance->hasVideo ? "video" : "audio"));
    if (entry)
        gst_pad_add_probe(entry.get(), GST_PAD_PROBE_TYPE_BUFFER, RoomTap::entryProbe,
            new std::shared_ptr<RoomTap>(tap), RoomTap::release);
    for (const auto &p : o.tpl.params) {
        if (p.kind != TemplateParamKind::url)
            continue;
        GPtr<GstElement> sink = adopt(gst_bin_get_by_name(GST_BIN(bin), p.setElement.c_str()));
        GPtr<GstPad> pad = sink ? adopt(gst_element_get_static_pad(sink.get(), "sink")) : nullptr;
        if (pad)
            gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, RoomTap::bytesProbe,
                new std::shared_ptr<RoomTap>(tap), RoomTap::release);
    }
    if (!mixerIt->second->addOutput(bin, error))
        return false;
    if (o.tap) // keep the bytes sent by earlier instances of a retried stream
        tap->bytes.fetch_add(o.tap->bytes.load());
    o.tap = tap;
    o.bin = std::move(instance->bin);
    o.roomRetry.startedUs = g_get_monotonic_time();
    return true;
}

void RoomSession::onRoomOutputStarted(const std::string &id, std::chrono::system_clock::time_point at)
{
    Output *o = findOutput(id);
    if (!o || o->ended)
        return;
    if (o->state == "starting" || o->state == "retrying")
        o->state = "running";
    if (o->startedAt)
        return;
    o->startedAt = at;
    if (!o->path.empty()) {
        o->manifestPath = layout_.relativeToSession(o->path);
        manifest_.fileStarted("", o->manifestPath, o->tpl.name, "", "", manifest_.offsetOf(at));
        RC_LOG_INFO("gateway: room %s: %s started (%s)", settings_.room.c_str(), o->path.c_str(),
            o->id.c_str());
    } else {
        RC_LOG_INFO("gateway: room %s: output %s streaming to %s", settings_.room.c_str(),
            o->id.c_str(), o->redactedUrl.c_str());
    }
    if (events_.outputStarted)
        events_.outputStarted(infoOf(*o));
}

void RoomSession::finishRoomOutput(Output &o)
{
    auto mixerIt = mixers_.find(o.mixerKey);
    if (!o.bin || mixerIt == mixers_.end()) {
        // Retrying (no instance now) or never built: nothing to close.
        closeRoomInstance(o);
        completeOutput(o);
        return;
    }
    mixerIt->second->finishOutput(o.bin.get());
    std::weak_ptr<RoomSession *> weak = self_;
    const std::string id = o.id;
    GMainContext *context = context_;
    o.stopTimer = addTimeout(context_, settings_.receiver.finalizeTimeout, [weak, id, context] {
        post(context, [weak, id] {
            auto s = weak.lock();
            if (!s || !*s)
                return;
            RoomSession *self = *s;
            Output *o = self->findOutput(id);
            if (!o || o->ended)
                return;
            RC_LOG_WARN("gateway: room %s: output %s did not finish within %lld ms; closing it as "
                        "it is",
                self->settings_.room.c_str(), id.c_str(),
                static_cast<long long>(self->settings_.receiver.finalizeTimeout.count()));
            self->closeRoomInstance(*o);
            self->completeOutput(*o);
        });
        return false;
    });
}

void RoomSession::closeRoomInstance(Output &o)
{
    if (o.bin) {
        if (auto it = mixers_.find(o.mixerKey); it != mixers_.end())
            it->second->removeOutput(o.bin.get());
        o.bin.reset();
    }
    if (o.tap) {
        o.finalDuration = o.tap->seconds();
        o.finalBytes = o.path.empty() ? o.tap->bytes.load()
            : o.hlsDir.empty()          ? fileSize(o.path)
                                        : folderSize(o.hlsDir);
    }
}

void RoomSession::onRoomOutputEos(GstElement *bin)
{
    for (auto &o : outputs_) {
        if (o->bin.get() != bin || o->ended)
            continue;
        closeRoomInstance(*o);
        completeOutput(*o);
        return;
    }
}

void RoomSession::onRoomOutputError(GstElement *bin, const std::string &message)
{
    for (auto &op : outputs_) {
        Output &o = *op;
        if (o.bin.get() != bin || o.ended)
            continue;
        const bool retry = network(o.tpl) && !o.stopping && !stopping_;
        RC_LOG_WARN("gateway: room %s: output %s (template %s%s%s) failed: %s%s",
            settings_.room.c_str(), o.id.c_str(), o.tpl.name.c_str(),
            o.redactedUrl.empty() ? "" : ", ", o.redactedUrl.c_str(), message.c_str(),
            retry ? "; retrying" : "");
        if (auto it = mixers_.find(o.mixerKey); it != mixers_.end())
            it->second->removeOutput(bin);
        o.bin.reset();
        if (!retry) {
            closeRoomInstance(o);
            completeOutput(o, message);
            return;
        }
        o.state = "retrying";
        const std::string id = o.id;
        scheduleRetry(o, o.roomRetry, [this, id] { retryRoomOutput(id); });
        return;
    }
}

void RoomSession::retryRoomOutput(const std::string &id)
{
    Output *out = findOutput(id);
    if (!out || out->ended || out->stopping || stopping_ || out->bin)
        return;
    std::string error;
    if (!buildRoomInstance(*out, error)) {
        RC_LOG_WARN("gateway: room %s: output %s: rebuilding failed: %s", settings_.room.c_str(),
            id.c_str(), error.c_str());
        scheduleRetry(*out, out->roomRetry, [this, id] { retryRoomOutput(id); });
        return;
    }
    ++out->restarts;
    RC_LOG_INFO("gateway: room %s: output %s restarted (%u)", settings_.room.c_str(), id.c_str(),
        out->restarts);
    if (events_.outputRestarted)
        events_.outputRestarted(infoOf(*out));
}

void RoomSession::scheduleRetry(Output &o, Retry &retry, std::function<void()> rebuild)
{
    if (retry.startedUs && g_get_monotonic_time() - retry.startedUs >= kNetRetryResetUs)
        retry.failures = 0;
    auto delay = std::min(kNetRetryMax, kNetRetryMin * (1u << std::min(retry.failures, 4u)));
    ++retry.failures;
    RC_LOG_INFO("gateway: room %s: output %s: retrying in %lld ms", settings_.room.c_str(),
        o.id.c_str(), static_cast<long long>(delay.count()));
    std::weak_ptr<RoomSession *> weak = self_;
    GMainContext *context = context_;
    retry.timer = addTimeout(context_, delay, [weak, context, rebuild] {
        // Run from a later dispatch: rebuild may replace this very timer.
        post(context, [weak, rebuild] {
            if (auto s = weak.lock(); s && *s)
                rebuild();
        });
        return false;
    });
}

void RoomSession::onParticipantOutputError(
    unsigned serial, ParticipantOutput &out, const std::string &message)
{
    Output *o = findOutput(out.outputId());
    if (!o || o->ended)
        return;
    if (o->stopping || stopping_) {
        RC_LOG_WARN("gateway: room %s: output %s failed while closing: %s", settings_.room.c_str(),
            o->id.c_str(), message.c_str());
        return;
    }
    if (out.disabled()) {
        // It had nothing to send (the participant's codec is not one it takes).
        RC_LOG_INFO("gateway: room %s: output %s: not retrying for a participant it cannot take",
            settings_.room.c_str(), o->id.c_str());
        return;
    }
    o->state = "retrying";
    if (out.started())
        o->files.push_back({ "", [&] {
                                auto it = receivers_.find(serial);
                                return it == receivers_.end() ? std::string() : it->second.peerId;
                            }(),
            out.durationSeconds(), out.bytesIn() });
    const std::string id = o->id;
    Retry &retry = o->retries[serial];
    scheduleRetry(*o, retry, [this, id, serial] {
        Output *o2 = findOutput(id);
        auto it = receivers_.find(serial);
        if (!o2 || o2->ended || o2->stopping || stopping_ || it == receivers_.end()
            || it->second.receiver->finishing())
            return;
        std::string error;
        auto instance = makeParticipantInstance(*o2, it->second.peerId, error);
        if (!instance || !it->second.receiver->addOutput(std::move(instance), error)) {
            RC_LOG_WARN("gateway: room %s: output %s for %s: rebuilding failed: %s",
                settings_.room.c_str(), id.c_str(), it->second.peerId.c_str(), error.c_str());
            return;
        }
        o2->retries[serial].startedUs = g_get_monotonic_time();
        ++o2->restarts;
        RC_LOG_INFO("gateway: room %s: output %s for %s restarted (%u)", settings_.room.c_str(),
            id.c_str(), it->second.peerId.c_str(), o2->restarts);
        if (events_.outputRestarted)
            events_.outputRestarted(infoOf(*o2));
    });
}

void RoomSession::completeOutput(Output &o, const std::string &failure)
{
    if (o.ended)
        return;
    o.ended = true;
    o.stopTimer.reset();
    o.roomRetry.timer.reset();
    o.retries.clear();
    if (o.tpl.scope == TemplateScope::room && o.startedAt && !o.manifestPath.empty())
        manifest_.fileFinished(o.manifestPath, o.finalDuration, o.finalBytes);
    if (!failure.empty() && !o.stopping) {
        o.state = "failed";
        o.failure = failure;
    } else {
        o.state = "finished";
    }
    OutputInfo info = infoOf(o);
    RC_LOG_INFO("gateway: room %s: output %s %s", settings_.room.c_str(), o.id.c_str(),
        o.state.c_str());
    if (o.state == "failed") {
        if (events_.outputFailed)
            events_.outputFailed(info, failure);
    } else if (events_.outputFinished) {
        events_.outputFinished(info);
    }
    auto waiters = std::move(o.waiters);
    o.waiters.clear();
    for (auto &w : waiters)
        if (w)
            w(info);
    if (o.tpl.scope == TemplateScope::room)
        releaseMixerIfUnused(o.mixerKey);
    checkStopped();
}

void RoomSession::releaseMixerIfUnused(const std::string &key)
{
    if (stopping_)
        return; // checkStopped stops them all
    for (const auto &o : outputs_)
        if (o->mixerKey == key && !o->ended)
            return;
    auto it = mixers_.find(key);
    if (it == mixers_.end())
        return;
    RC_LOG_INFO("gateway: room %s: composite %s no longer needed", settings_.room.c_str(), key.c_str());
    it->second->stop();
    // Nobody watches this composite any more: stop decoding for it (a later
    // room output creates a new composite and new branches).
    for (const auto &[serial, weakFeed] : feeds_[key]) {
        auto feed = weakFeed.lock();
        if (auto r = receivers_.find(serial); feed && r != receivers_.end())
            r->second.receiver->removeMixFeed(feed.get());
    }
    feeds_.erase(key);
    auto doomed = std::make_shared<std::unique_ptr<RoomMixer>>(std::move(it->second));
    mixers_.erase(it);
    post(context_, [doomed] { doomed->reset(); });
}

OutputInfo RoomSession::infoOf(const Output &o) const
{
    OutputInfo info;
    info.id = o.id;
    info.templateName = o.tpl.name;
    info.scope = o.tpl.scope;
    info.state = o.state;
    info.url = o.redactedUrl;
    info.startedAt = o.startedAt;
    info.failure = o.failure;
    info.restarts = o.restarts;
    info.manifestPath = layout_.manifestPath();
    if (o.tpl.scope == TemplateScope::room) {
        if (!o.path.empty() || o.tap) {
            OutputFile f;
            f.path = o.path;
            if (o.ended) {
                f.durationSeconds = o.finalDuration;
                f.bytes = o.finalBytes;
            } else if (o.tap) {
                f.durationSeconds = o.tap->seconds();
                f.bytes = o.path.empty() ? o.tap->bytes.load()
                    : o.hlsDir.empty()   ? fileSize(o.path)
                                         : folderSize(o.hlsDir);
            }
            if (!o.path.empty() || o.startedAt)
                info.files.push_back(f);
        }
    } else {
        info.files = o.files;
        for (const auto &[serial, r] : receivers_)
            for (const auto &out : r.receiver->outputs())
                if (out->outputId() == o.id && out->started())
                    info.files.push_back({ out->outputPath(), r.peerId, out->durationSeconds(),
                        out->outputPath().empty() ? out->bytesIn() : out->fileBytes() });
    }
    for (const auto &f : info.files)
        info.bytes += f.bytes;
    return info;
}

std::vector<OutputInfo> RoomSession::outputs() const
{
    std::vector<OutputInfo> running, ended;
    for (const auto &o : outputs_)
        (o->ended ? ended : running).push_back(infoOf(*o));
    running.insert(running.end(), ended.begin(), ended.end());
    return running;
}

std::optional<OutputInfo> RoomSession::output(const std::string &id) const
{
    if (const Output *o = findOutput(id))
        return infoOf(*o);
    return std::nullopt;
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

bool RoomSession::startOutput(const PipelineTemplate &tpl,
    const std::map<std::string, std::string> &params, OutputInfo &started, std::string &errorCode,
    std::string &error)
{
    if (stopping_) {
        errorCode = "failed";
        error = "the room is closing";
        return false;
    }
    for (const auto &o : outputs_) {
        if (!o->ended && !o->stopping && o->tpl.name == tpl.name && o->params == params) {
            errorCode = "conflict";
            error = "output " + o->id + " already runs template " + tpl.name + " with these parameters";
            return false;
        }
    }
    Output &o = createOutput(tpl, params);
    if (tpl.scope == TemplateScope::room && !hadParticipant_) {
        // Templates were checked when loaded; what remains (a file that
        // cannot be created) is reported as output.failed when it starts.
        o.awaitingParticipant = true;
        RC_LOG_INFO("gateway: room %s: output %s starts with the first participant",
            settings_.room.c_str(), o.id.c_str());
    } else if (tpl.scope == TemplateScope::room) {
        if (!startRoomOutput(o, error)) {
            errorCode = "failed";
            RC_LOG_ERROR("gateway: room %s: output %s cannot start: %s", settings_.room.c_str(),
                o.id.c_str(), error.c_str());
            o.state = "failed";
            o.failure = error;
            o.ended = true;
            releaseMixerIfUnused(o.mixerKey);
            return false;
        }
    } else {
        // On every participant now here; startReceiver adds it to later ones.
        for (auto &[serial, r] : receivers_) {
            if (r.receiver->finishing())
                continue;
            std::string why;
            auto instance = makeParticipantInstance(o, r.peerId, why);
            if (!instance) {
                // The template itself does not instantiate: nothing will.
                errorCode = "failed";
                error = why;
                o.state = "failed";
                o.failure = why;
                o.ended = true;
                return false;
            }
            if (!r.receiver->addOutput(std::move(instance), why))
                RC_LOG_WARN("gateway: room %s: output %s for %s: %s", settings_.room.c_str(),
                    o.id.c_str(), r.peerId.c_str(), why.c_str());
        }
    }
    started = infoOf(o);
    return true;
}

void RoomSession::stopOutput(const std::string &id, std::function<void(std::optional<OutputInfo>)> done)
{
    Output *o = findOutput(id);
    if (!o || o->ended) {
        if (done)
            post(context_, [done] { done(std::nullopt); });
        return;
    }
    if (done)
        o->waiters.push_back(std::move(done));
    if (o->stopping)
        return;
    o->stopping = true;
    o->state = "finishing";
    o->retries.clear();
    o->roomRetry.timer.reset();
    RC_LOG_INFO("gateway: room %s: stopping output %s", settings_.room.c_str(), id.c_str());
    if (o->tpl.scope == TemplateScope::room) {
        finishRoomOutput(*o);
        return;
    }
    o->pending = 1; // held until every receiver is asked
    std::weak_ptr<RoomSession *> weak = self_;
    auto oneDone = [weak, id] {
        auto s = weak.lock();
        if (!s || !*s)
            return;
        Output *out = (*s)->findOutput(id);
        if (out && out->pending > 0 && --out->pending == 0)
            (*s)->completeOutput(*out);
    };
    for (auto &[serial, r] : receivers_) {
        ++o->pending;
        r.receiver->finishOutput(id, oneDone);
    }
    oneDone();
}

} // namespace rc::gateway
