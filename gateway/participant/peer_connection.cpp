// webrtcbin, negotiation, trickle ICE, pads and stats of one participant; see peer_connection.h.
#include "gateway/participant/peer_connection.h"

#include "common/base/main_context.h"
#include "common/gst/gst_helpers.h"
#include "common/gst/ice_restriction.h"
#include "common/protocol/candidate_address.h"
#include "gateway/participant/ice_restart.h"
#include "gateway/participant/whip_offer.h"

#include <gst/sdp/sdp.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <utility>

namespace rc::gateway {
namespace {

// host:port of a turn(s)://user:pass@host:port URL: what a log line may show of it.
std::string turnServerAddress(const std::string &url)
{
    std::string rest = url.substr(std::min(url.size(), url.find("://") + 3));
    if (auto at = rest.rfind('@'); at != std::string::npos)
        rest = rest.substr(at + 1);
    return rest.substr(0, rest.find_first_of("?/"));
}

using Ref = WeakSelf<PeerConnection>::Ref;

// What a callback on a GStreamer thread may hold: the weak reference and the context; never the
// connection.
struct Handle
{
    Ref weak;
    GMainContext *context;
};

void deleteHandle(gpointer data, GClosure *) noexcept
{
    delete static_cast<Handle *>(data);
}

SignalConnection connectWeak(
    gpointer instance, const char *signal, GCallback callback, const Handle &handle)
{
    gulong id = g_signal_connect_data(
        instance, signal, callback, new Handle(handle), deleteHandle, GConnectFlags(0));
    return SignalConnection(instance, id);
}

// A promise whose reply (copied) is handed to fn on the main context, if the connection still
// exists.
struct PromiseJob
{
    Ref weak;
    GMainContext *context;
    std::function<void(PeerConnection &, const GstStructure *)> fn;
};

std::string replyError(const GstStructure *reply)
{
    if (!reply || !gst_structure_has_field(reply, "error"))
        return {};
    GError *error = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    auto owned = adopt(error);
    return owned ? owned->message : "unknown error";
}

} // namespace

struct PeerConnection::Trampolines
{
    static void promiseReplied(GstPromise *promise, gpointer data) noexcept
    {
        auto *job = static_cast<PromiseJob *>(data);
        std::shared_ptr<GstStructure> reply;
        if (gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED) {
            if (const GstStructure *r = gst_promise_get_reply(promise))
                reply.reset(gst_structure_copy(r), gst_structure_free);
        }
        auto fn = job->fn;
        job->weak.post(job->context, [fn, reply](PeerConnection &self) { fn(self, reply.get()); });
    }

    static void deletePromiseJob(gpointer data) noexcept { delete static_cast<PromiseJob *>(data); }

    // Adopted by the caller, who holds the promise until the signal has taken its own reference.
    static GPtr<GstPromise> promise(
        PeerConnection *self, std::function<void(PeerConnection &, const GstStructure *)> fn)
    {
        return adopt(gst_promise_new_with_change_func(promiseReplied,
            new PromiseJob { self->self_.ref(), self->context_, std::move(fn) }, deletePromiseJob));
    }

    static void iceCandidate(GstElement *, guint mline, gchar *candidate, gpointer data) noexcept
    {
        const auto *handle = static_cast<Handle *>(data);
        if (!candidate)
            return;
        std::string text(candidate);
        handle->weak.post(handle->context,
            [mline, text](PeerConnection &self) { self.onLocalCandidate(mline, text); });
    }

    static void gatheringChanged(GObject *object, GParamSpec *, gpointer data) noexcept
    {
        const auto *handle = static_cast<Handle *>(data);
        gint state = 0;
        g_object_get(object, "ice-gathering-state", &state, nullptr);
        if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
            handle->weak.post(
                handle->context, [](PeerConnection &self) { self.onGatheringDone(); });
    }

    static void stateChanged(GObject *object, GParamSpec *pspec, gpointer data) noexcept
    {
        const auto *handle = static_cast<Handle *>(data);
        const bool ice = g_str_equal(pspec->name, "ice-connection-state");
        gint state = 0;
        g_object_get(object, pspec->name, &state, nullptr);
        handle->weak.post(handle->context, [ice, state](PeerConnection &self) {
            if (ice && self.callbacks_.iceState)
                self.callbacks_.iceState(static_cast<GstWebRTCICEConnectionState>(state));
            else if (!ice && self.callbacks_.connectionState)
                self.callbacks_.connectionState(static_cast<GstWebRTCPeerConnectionState>(state));
        });
    }

    struct BlockJob
    {
        Ref weak;
        GMainContext *context;
        std::atomic<bool> posted { false };
    };

    // Holds the new pad's first buffer until the main context has linked it.
    static GstPadProbeReturn blockUntilLinked(
        GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
    {
        auto *job = static_cast<BlockJob *>(data);
        if (job->posted.exchange(true))
            return GST_PAD_PROBE_OK; // still blocked: the main context has not linked it yet
        GPtr<GstCaps> caps = adopt(gst_pad_get_current_caps(pad));
        if (!caps)
            caps = adopt(gst_pad_query_caps(pad, nullptr));
        auto shared
            = std::make_shared<std::pair<GPtr<GstPad>, GPtr<GstCaps>>>(ref(pad), std::move(caps));
        gulong id = GST_PAD_PROBE_INFO_ID(info);
        job->weak.post(job->context, [shared, id](PeerConnection &self) {
            GstPad *pad = shared->first.get();
            if (self.callbacks_.newPad)
                self.callbacks_.newPad(pad, shared->second.get());
            gst_pad_remove_probe(pad, id);
        });
        return GST_PAD_PROBE_OK;
    }

    static void deleteBlockJob(gpointer data) noexcept { delete static_cast<BlockJob *>(data); }

    static void padAdded(GstElement *, GstPad *pad, gpointer data) noexcept
    {
        if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
            return;
        const auto *handle = static_cast<Handle *>(data);
        // Block before any data flows: an unlinked webrtcbin pad fails the
        // session with not-linked, and linking must happen on the main context.
        gst_pad_add_probe(pad,
            static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER
                | GST_PAD_PROBE_TYPE_BUFFER_LIST),
            blockUntilLinked, new BlockJob { handle->weak, handle->context }, deleteBlockJob);
    }
};

PeerConnection::PeerConnection(
    GMainContext *context, std::string peerId, Settings settings, Callbacks callbacks)
    : context_(context)
    , peerId_(std::move(peerId))
    , settings_(std::move(settings))
    , callbacks_(std::move(callbacks))
{ }

PeerConnection::~PeerConnection()
{
    self_.invalidate();
}

bool PeerConnection::create(GstBin *pipeline, std::string &error)
{
    webrtc_ = refSink(gst_element_factory_make("webrtcbin", "webrtc"));
    if (!webrtc_) {
        error = "cannot create webrtcbin (gst-plugins-bad webrtc plugin missing?)";
        return false;
    }
    if (!OfferBuilder::prepare(webrtc_.get(), settings_.offer, error, !settings_.answerer))
        return false;
    gst_bin_add(pipeline, webrtc_.get());
    const Handle h { self_.ref(), context_ };
    padAdded_ = connectWeak(webrtc_.get(), "pad-added", G_CALLBACK(Trampolines::padAdded), h);
    iceCandidate_
        = connectWeak(webrtc_.get(), "on-ice-candidate", G_CALLBACK(Trampolines::iceCandidate), h);
    iceState_ = connectWeak(
        webrtc_.get(), "notify::ice-connection-state", G_CALLBACK(Trampolines::stateChanged), h);
    connectionState_ = connectWeak(
        webrtc_.get(), "notify::connection-state", G_CALLBACK(Trampolines::stateChanged), h);
    gatheringState_ = connectWeak(
        webrtc_.get(), "notify::ice-gathering-state", G_CALLBACK(Trampolines::gatheringChanged), h);
    return true;
}

void PeerConnection::createOffer()
{
    GPtr<GstPromise> promise
        = Trampolines::promise(this, [](PeerConnection &self, const GstStructure *reply) {
              GstWebRTCSessionDescription *offer = nullptr;
              std::string err = replyError(reply);
              if (reply && err.empty())
                  gst_structure_get(
                      reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
              auto owned = adopt(offer);
              if (!owned) {
                  self.fail(
                      "webrtcbin could not create an offer: " + (err.empty() ? "no reply" : err));
                  return;
              }
              self.onOfferCreated(takeString(gst_sdp_message_as_text(owned->sdp)));
          });
    g_signal_emit_by_name(webrtc_.get(), "create-offer", nullptr, promise.get());
}

bool PeerConnection::restartIce()
{
    // An answerer cannot restart ICE: that takes a new offer, which is the publisher's to make.
    if (closing_ || !webrtc_ || !negotiated_ || settings_.answerer)
        return false;
    ++iceRestarts_;
    restarting_ = true;
    // The answer to this offer brings the peer's new credentials; its candidates wait for it.
    answerReceived_ = false;
    remoteSet_ = false;
    pendingCandidates_.clear();
    log_.info("%s: restarting ICE (attempt %u)", peerId_.c_str(), iceRestarts_);
    createOffer();
    return true;
}

void PeerConnection::onOfferCreated(std::string sdp)
{
    if (closing_)
        return;
    if (restarting_) {
        // Restarted here, as late as possible: between this and the answer libnice has new
        // local credentials and no remote ones, so no checks run on the old pairs.
        std::string error;
        auto changes = restartIceStreams(webrtc_.get(), error);
        auto rewritten = changes ? withRestartedIceCredentials(sdp, *changes) : std::nullopt;
        if (!rewritten) {
            restarting_ = false;
            log_.warn("%s: ICE restart not made: %s", peerId_.c_str(),
                changes ? "our offer's ICE credentials are not the agent's" : error.c_str());
            return;
        }
        sdp = std::move(*rewritten);
    }
    localSdp_ = addBitrateHints(sdp, settings_.bitrate);
    auto description = OfferBuilder::description(GST_WEBRTC_SDP_TYPE_OFFER, localSdp_);
    if (!description) {
        fail("cannot parse our own offer");
        return;
    }
    GPtr<GstPromise> promise
        = Trampolines::promise(this, [](PeerConnection &self, const GstStructure *reply) {
              if (std::string err = replyError(reply); !err.empty())
                  self.fail("webrtcbin refused our offer: " + err);
          });
    g_signal_emit_by_name(webrtc_.get(), "set-local-description", description.get(), promise.get());
    log_.debug("offer to %s:\n%s", peerId_.c_str(), localSdp_.c_str());
    if (callbacks_.localOffer)
        callbacks_.localOffer(localSdp_);
    if (std::exchange(restarting_, false))
        resendLocalCandidates();
}

void PeerConnection::resendLocalCandidates()
{
    // Every m-line is bundled on the first one's transport.
    const auto candidates = localIceCandidates(webrtc_.get());
    for (const auto &candidate : candidates)
        onLocalCandidate(0, candidate);
    log_.debug("%s: %zu local candidate(s) sent again", peerId_.c_str(), candidates.size());
}

bool PeerConnection::setAnswer(const std::string &sdp)
{
    // Candidates in the answer go to ICE too: IP literals only (see candidate_address.h).
    int dropped = 0;
    const std::string usable = protocol::withoutHostnameCandidates(sdp, &dropped);
    if (dropped > 0)
        log_.info("ignoring %d candidate(s) with a host name in the answer of %s", dropped,
            peerId_.c_str());
    auto description = OfferBuilder::description(GST_WEBRTC_SDP_TYPE_ANSWER, usable);
    if (!description) {
        log_.warn("unparsable answer from %s", peerId_.c_str());
        return false;
    }
    answerReceived_ = true;
    GPtr<GstPromise> promise
        = Trampolines::promise(this, [](PeerConnection &self, const GstStructure *reply) {
              self.onRemoteDescriptionSet(replyError(reply));
          });
    g_signal_emit_by_name(
        webrtc_.get(), "set-remote-description", description.get(), promise.get());
    return true;
}

void PeerConnection::onRemoteDescriptionSet(const std::string &error)
{
    if (!error.empty()) {
        fail("webrtcbin refused the answer: " + error);
        return;
    }
    remoteSet_ = true;
    if (std::exchange(negotiated_, true))
        log_.info("%s: answer to the ICE restart set", peerId_.c_str());
    for (const auto &[mline, candidate] : pendingCandidates_)
        addCandidateNow(mline, candidate);
    pendingCandidates_.clear();
}

void PeerConnection::addRemoteCandidate(const protocol::Candidate &candidate)
{
    // End of candidates (empty): libnice needs no notice of it.
    if (closing_ || !webrtc_ || candidate.candidate.empty())
        return;
    // A host name (an mDNS ".local" name or any DNS name) would have libnice resolve it: mDNS
    // or DNS traffic that nobody configured, on a peer's say-so. IP literals only.
    if (!protocol::candidateHasIpAddress(candidate.candidate)) {
        log_.info("ignoring a candidate of %s without an IP address", peerId_.c_str());
        return;
    }
    unsigned mline = 0;
    if (candidate.sdpMLineIndex && *candidate.sdpMLineIndex >= 0)
        mline = static_cast<unsigned>(*candidate.sdpMLineIndex);
    else if (candidate.sdpMid)
        mline = mlineForMid(localSdp_, *candidate.sdpMid).value_or(0);
    if (!remoteSet_)
        pendingCandidates_.emplace_back(mline, candidate.candidate);
    else
        addCandidateNow(mline, candidate.candidate);
}

void PeerConnection::addCandidateNow(unsigned mline, const std::string &candidate)
{
    g_signal_emit_by_name(webrtc_.get(), "add-ice-candidate", mline, candidate.c_str());
}

void PeerConnection::onLocalCandidate(unsigned mline, const std::string &candidate)
{
    if (candidate.find(" typ relay") != std::string::npos)
        ++relayCandidates_;
    if (closing_ || !callbacks_.localCandidate)
        return;
    protocol::Candidate c;
    c.candidate = candidate;
    c.sdpMLineIndex = static_cast<int>(mline);
    for (const auto &s : describeSections(localSdp_))
        if (s.index == mline && !s.mid.empty())
            c.sdpMid = s.mid;
    callbacks_.localCandidate(c);
}

void PeerConnection::pollStats()
{
    if (!webrtc_ || closing_)
        return;
    GPtr<GstPromise> promise = Trampolines::promise(
        this, [](PeerConnection &self, const GstStructure *reply) { self.onStats(reply); });
    g_signal_emit_by_name(webrtc_.get(), "get-stats", nullptr, promise.get());
}

void PeerConnection::onStats(const GstStructure *reply)
{
    if (!reply)
        return;
    PeerStats next;
    const int n = gst_structure_n_fields(reply);
    for (int i = 0; i < n; ++i) {
        const GValue *v = gst_structure_get_value(reply, gst_structure_nth_field_name(reply, i));
        if (!v || !GST_VALUE_HOLDS_STRUCTURE(v))
            continue;
        const GstStructure *st = gst_value_get_structure(v);
        GstWebRTCStatsType type = GstWebRTCStatsType(0);
        if (!gst_structure_get(st, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr)
            || type != GST_WEBRTC_STATS_INBOUND_RTP)
            continue;
        guint64 packets = 0, bytes = 0;
        gint64 lost = 0;
        if (gst_structure_get_uint64(st, "packets-received", &packets))
            next.packetsReceived += packets;
        if (gst_structure_get_uint64(st, "bytes-received", &bytes))
            next.bytesReceived += bytes;
        if (gst_structure_get_int64(st, "packets-lost", &lost) && lost > 0)
            next.packetsLost += static_cast<uint64_t>(lost);
    }
    const gint64 now = g_get_monotonic_time();
    if (statsAtUs_ && now > statsAtUs_ && next.bytesReceived >= stats_.bytesReceived)
        next.receiveBitrateBps = (next.bytesReceived - stats_.bytesReceived) * 8 * 1000000
            / static_cast<uint64_t>(now - statsAtUs_);
    statsAtUs_ = now;
    stats_ = next;
    if (callbacks_.stats)
        callbacks_.stats(stats_);
}

void PeerConnection::fail(const std::string &reason)
{
    if (negotiated_) {
        // A renegotiation (ICE restart) went wrong: the session still stands, and the owner's
        // watchdog asks for another restart later.
        log_.warn("%s: ICE restart failed: %s", peerId_.c_str(), reason.c_str());
        return;
    }
    if (callbacks_.failed)
        callbacks_.failed(reason);
}

void PeerConnection::acceptOffer(const std::string &sdp)
{
    // Candidates in the offer go to ICE too: IP literals only (see candidate_address.h).
    int dropped = 0;
    const std::string usable = protocol::withoutHostnameCandidates(sdp, &dropped);
    if (dropped > 0)
        log_.info("ignoring %d candidate(s) with a host name in the offer of %s", dropped,
            peerId_.c_str());
    auto description = OfferBuilder::description(GST_WEBRTC_SDP_TYPE_OFFER, usable);
    if (!description) {
        fail("the offer cannot be parsed");
        return;
    }
    answerReceived_ = true; // the peer's description is in
    localSdp_ = usable; // until our answer exists, mids map to m-lines through the offer
    GPtr<GstPromise> promise
        = Trampolines::promise(this, [](PeerConnection &self, const GstStructure *reply) {
              self.onOfferSet(replyError(reply));
          });
    g_signal_emit_by_name(
        webrtc_.get(), "set-remote-description", description.get(), promise.get());
}

void PeerConnection::onOfferSet(const std::string &error)
{
    if (closing_)
        return;
    if (!error.empty()) {
        fail("webrtcbin refused the offer: " + error);
        return;
    }
    remoteSet_ = true;
    GPtr<GstPromise> promise
        = Trampolines::promise(this, [](PeerConnection &self, const GstStructure *reply) {
              GstWebRTCSessionDescription *answer = nullptr;
              std::string err = replyError(reply);
              if (reply && err.empty())
                  gst_structure_get(
                      reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
              auto owned = adopt(answer);
              if (!owned) {
                  self.fail(
                      "webrtcbin could not create an answer: " + (err.empty() ? "no reply" : err));
                  return;
              }
              self.onAnswerCreated(takeString(gst_sdp_message_as_text(owned->sdp)));
          });
    g_signal_emit_by_name(webrtc_.get(), "create-answer", nullptr, promise.get());
}

void PeerConnection::onAnswerCreated(std::string sdp)
{
    if (closing_)
        return;
    auto description = OfferBuilder::description(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
    if (!description) {
        fail("cannot parse our own answer");
        return;
    }
    localSdp_ = std::move(sdp);
    GPtr<GstPromise> promise
        = Trampolines::promise(this, [](PeerConnection &self, const GstStructure *reply) {
              if (std::string err = replyError(reply); !err.empty())
                  self.fail("webrtcbin refused our answer: " + err);
          });
    g_signal_emit_by_name(webrtc_.get(), "set-local-description", description.get(), promise.get());
    for (const auto &[mline, candidate] : pendingCandidates_)
        addCandidateNow(mline, candidate);
    pendingCandidates_.clear();
    answerPending_ = true;
    if (gathered_) {
        deliverAnswer();
        return;
    }
    // Host candidates on the restricted addresses come within milliseconds; a gathering state
    // that never reaches complete (a STUN server that does not answer) must not hold the
    // publisher's POST for ever: answer with what there is.
    answerTimer_ = addTimeout(context_, std::chrono::milliseconds(3000), [this] {
        releaseLater(context_, std::move(answerTimer_));
        deliverAnswer();
        return false;
    });
}

void PeerConnection::deliverAnswer()
{
    if (!std::exchange(answerPending_, false) || closing_)
        return;
    answerTimer_.reset();
    negotiated_ = true;
    const std::string answer = withLocalCandidates(localSdp_, localIceCandidates(webrtc_.get()));
    log_.debug("answer to %s:\n%s", peerId_.c_str(), answer.c_str());
    if (callbacks_.localAnswer)
        callbacks_.localAnswer(answer);
}

void PeerConnection::onGatheringDone()
{
    gathered_ = true;
    if (answerPending_)
        deliverAnswer();
    // libnice gives up a TURN allocation the server refused (401 after the second try with
    // credentials) or never answered without telling anyone: without this, a wrong TURN
    // password is only seen in the TURN server's log.
    if (settings_.offer.turnServer.empty() || relayCandidates_ > 0 || !turnProblem_.empty())
        return;
    turnProblem_ = "the TURN server " + turnServerAddress(settings_.offer.turnServer)
        + " gave no relay candidate (wrong user or credential, or not reachable)";
    log_.warn("%s: %s", peerId_.c_str(), turnProblem_.c_str());
}

void PeerConnection::disconnect() noexcept
{
    gatheringState_.reset();
    padAdded_.reset();
    iceCandidate_.reset();
    iceState_.reset();
    connectionState_.reset();
}

} // namespace rc::gateway
