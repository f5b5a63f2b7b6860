// One receive-only webrtcbin per participant: negotiation, pads, health, stats, finalizing; see
// peer_receiver.h (its outputs and composite feeds are in peer_receiver_outputs.cpp).
#include "gateway/participant/peer_receiver.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/gst/bus_message.h"
#include "common/gst/gst_helpers.h"
#include "gateway/ops/output_params.h"
#include "gateway/participant/offer_builder.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>

namespace rc::gateway {

// Last time any RTP-derived buffer left webrtcbin (monotonic µs); written by
// pad probes on streaming threads.
struct PeerReceiver::Activity
{
    std::atomic<gint64> lastBufferUs { 0 };
};

namespace {

// How long an output waits for the second of audio/video once the first flows (a video stream may
// wait for its keyframe); a muxer holds everything back until every entry has data.
constexpr std::chrono::milliseconds kStarvedEntryGrace { 3000 };

// webrtcbin's jitterbuffer latency (200 ms by default) plus a margin.
constexpr std::chrono::milliseconds kDrainTime { 300 };

constexpr std::chrono::milliseconds kStatsInterval { 2000 };

using Weak = std::weak_ptr<PeerReceiver *>;

// What a callback on a GStreamer thread may hold: the weak handle and the context; never the
// receiver.
struct Handle
{
    Weak weak;
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

GstPadProbeReturn activityProbe(GstPad *, GstPadProbeInfo *, gpointer data) noexcept
{
    auto *activity = static_cast<std::shared_ptr<std::atomic<gint64>> *>(data);
    (*activity)->store(g_get_monotonic_time(), std::memory_order_relaxed);
    return GST_PAD_PROBE_OK;
}

void deleteActivity(gpointer data) noexcept
{
    delete static_cast<std::shared_ptr<std::atomic<gint64>> *>(data);
}

// A promise whose reply (copied) is handed to fn on the main context, if the receiver still exists.
struct PromiseJob
{
    Weak weak;
    GMainContext *context;
    std::function<void(PeerReceiver &, const GstStructure *)> fn;
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

struct PeerReceiver::Trampolines
{
    static void promiseReplied(GstPromise *promise, gpointer data) noexcept
    {
        auto *job = static_cast<PromiseJob *>(data);
        std::shared_ptr<GstStructure> reply;
        if (gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED) {
            if (const GstStructure *r = gst_promise_get_reply(promise))
                reply.reset(gst_structure_copy(r), gst_structure_free);
        }
        Weak weak = job->weak;
        auto fn = job->fn;
        post(job->context, [weak, fn, reply] {
            if (auto o = weak.lock(); o && *o)
                fn(**o, reply.get());
        });
    }

    static void deletePromiseJob(gpointer data) noexcept { delete static_cast<PromiseJob *>(data); }

    static GstPromise *promise(
        PeerReceiver *self, std::function<void(PeerReceiver &, const GstStructure *)> fn)
    {
        return gst_promise_new_with_change_func(promiseReplied,
            new PromiseJob { self->self_, self->context_, std::move(fn) }, deletePromiseJob);
    }

    static void iceCandidate(GstElement *, guint mline, gchar *candidate, gpointer data) noexcept
    {
        const auto *handle = static_cast<Handle *>(data);
        if (!candidate)
            return;
        Weak weak = handle->weak;
        std::string text(candidate);
        post(handle->context, [weak, mline, text] {
            if (auto r = weak.lock(); r && *r)
                (*r)->onLocalCandidate(mline, text);
        });
    }

    static void stateChanged(GObject *object, GParamSpec *pspec, gpointer data) noexcept
    {
        const auto *handle = static_cast<Handle *>(data);
        Weak weak = handle->weak;
        const bool ice = g_str_equal(pspec->name, "ice-connection-state");
        gint state = 0;
        g_object_get(object, pspec->name, &state, nullptr);
        post(handle->context, [weak, ice, state] {
            if (auto r = weak.lock(); r && *r) {
                if (ice)
                    (*r)->onIceState(state);
                else
                    (*r)->onConnectionState(state);
            }
        });
    }

    struct BlockJob
    {
        Weak weak;
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
        Weak weak = job->weak;
        post(job->context, [weak, shared, id] {
            if (auto r = weak.lock(); r && *r)
                (*r)->onNewPad(std::move(shared->first), std::move(shared->second), id);
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

    static gboolean busMessage(GstBus *, GstMessage *message, gpointer data) noexcept
    {
        // The watch is destroyed with the receiver, on this same context.
        auto *self = static_cast<PeerReceiver *>(data);
        try {
            return self->onBusMessage(message) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
        } catch (...) {
            return G_SOURCE_CONTINUE;
        }
    }
};

PeerReceiver::PeerReceiver(GMainContext *context, std::string peerId, Settings settings,
    std::vector<std::unique_ptr<ParticipantOutput>> outputs, Callbacks callbacks)
    : context_(context)
    , peerId_(std::move(peerId))
    , settings_(std::move(settings))
    , callbacks_(std::move(callbacks))
    , outputs_(std::move(outputs))
    , activity_(std::make_shared<Activity>())
    , self_(std::make_shared<PeerReceiver *>(this))
{ }

PeerReceiver::~PeerReceiver()
{
    *self_ = nullptr;
    // Members then go in reverse order: handlers, timers, bus watch, elements.
    if (pipeline_ && !finished_)
        gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

RequiredElements PeerReceiver::requiredElements()
{
    RequiredElements list { { "webrtcbin", "gst-plugins-bad (webrtc)" },
        { "nicesrc", "gstreamer1.0-nice" }, { "nicesink", "gstreamer1.0-nice" },
        { "dtlssrtpdec", "gst-plugins-bad (dtls)" }, { "srtpdec", "gst-plugins-bad (srtp)" },
        { "rtpbin", "gst-plugins-good (rtpmanager)" } };
    addRequired(list, StreamLinker::requiredElements());
    return list;
}

bool PeerReceiver::start(std::string &error)
{
    pipeline_ = refSink(gst_pipeline_new(("peer-" + peerId_).c_str()));
    webrtc_ = refSink(gst_element_factory_make("webrtcbin", "webrtc"));
    if (!pipeline_ || !webrtc_) {
        error = "cannot create webrtcbin (gst-plugins-bad webrtc plugin missing?)";
        return false;
    }
    // Forwarded EOS messages tell us when each output's bin has finished.
    g_object_set(pipeline_.get(), "message-forward", TRUE, nullptr);
    const OfferBuilder::Config offer { settings_.iceLocalAddresses, settings_.stunServer,
        settings_.turnServer, settings_.videoCodecs, settings_.audioCodecs };
    if (!OfferBuilder::prepare(webrtc_.get(), offer, error))
        return false;
    gst_bin_add(GST_BIN(pipeline_.get()), webrtc_.get());
    for (auto &output : outputs_) {
        gst_bin_add(GST_BIN(pipeline_.get()), output->bin());
        ParticipantOutput *raw = output.get();
        Weak weak = self_;
        output->setOnStarted([weak, raw](std::chrono::system_clock::time_point at) {
            if (auto r = weak.lock(); r && *r && (*r)->callbacks_.outputStarted)
                (*r)->callbacks_.outputStarted(*raw, at);
        });
    }

    const Handle h { self_, context_ };
    padAdded_ = connectWeak(webrtc_.get(), "pad-added", G_CALLBACK(Trampolines::padAdded), h);
    iceCandidate_
        = connectWeak(webrtc_.get(), "on-ice-candidate", G_CALLBACK(Trampolines::iceCandidate), h);
    iceState_ = connectWeak(
        webrtc_.get(), "notify::ice-connection-state", G_CALLBACK(Trampolines::stateChanged), h);
    connectionState_ = connectWeak(
        webrtc_.get(), "notify::connection-state", G_CALLBACK(Trampolines::stateChanged), h);

    GPtr<GstBus> bus = adopt(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
    busWatch_ = GPtr<GSource>(gst_bus_create_watch(bus.get()));
    g_source_set_callback(busWatch_.get(), G_SOURCE_FUNC(Trampolines::busMessage), this, nullptr);
    g_source_attach(busWatch_.get(), context_);

    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        error = "the participant's pipeline refused to start (see the log for the element)";
        return false;
    }
    startedAtUs_ = g_get_monotonic_time();
    watchdogTimer_
        = addTimeout(context_, std::chrono::milliseconds(1000), [this] { return watchdog(); });
    statsTimer_ = addTimeout(context_, kStatsInterval, [this] {
        pollStats();
        return !finishing_;
    });

    // Adopted: we hold the promise until the signal has taken its own reference.
    GPtr<GstPromise> promise
        = adopt(Trampolines::promise(this, [](PeerReceiver &self, const GstStructure *reply) {
              GstWebRTCSessionDescription *offer = nullptr;
              std::string err = replyError(reply);
              if (reply && err.empty())
                  gst_structure_get(
                      reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
              auto owned = adopt(offer);
              if (!owned) {
                  self.reportFailure(
                      "webrtcbin could not create an offer: " + (err.empty() ? "no reply" : err));
                  return;
              }
              self.onOfferCreated(takeString(gst_sdp_message_as_text(owned->sdp)));
          }));
    g_signal_emit_by_name(webrtc_.get(), "create-offer", nullptr, promise.get());
    return true;
}

void PeerReceiver::onOfferCreated(const std::string &sdp)
{
    if (finishing_)
        return;
    localSdp_ = addBitrateHints(sdp, settings_.bitrate);
    auto description = OfferBuilder::description(GST_WEBRTC_SDP_TYPE_OFFER, localSdp_);
    if (!description) {
        reportFailure("cannot parse our own offer");
        return;
    }
    // Adopted: we hold the promise until the signal has taken its own reference.
    GPtr<GstPromise> promise
        = adopt(Trampolines::promise(this, [](PeerReceiver &self, const GstStructure *reply) {
              if (std::string err = replyError(reply); !err.empty())
                  self.reportFailure("webrtcbin refused our offer: " + err);
          }));
    g_signal_emit_by_name(webrtc_.get(), "set-local-description", description.get(), promise.get());
    RC_LOG_DEBUG("gateway: offer to %s:\n%s", peerId_.c_str(), localSdp_.c_str());
    if (callbacks_.sendOffer)
        callbacks_.sendOffer(localSdp_);
}

void PeerReceiver::handleAnswer(const std::string &sdp)
{
    if (finishing_ || answerReceived_ || !webrtc_) {
        RC_LOG_WARN("gateway: ignoring an unexpected answer from %s", peerId_.c_str());
        return;
    }
    auto description = OfferBuilder::description(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
    if (!description) {
        RC_LOG_WARN("gateway: unparsable answer from %s", peerId_.c_str());
        return;
    }
    answerReceived_ = true;
    // What will arrive: outputs whose template takes no stream of a kind end that entry now.
    for (MediaKind kind : { MediaKind::audio, MediaKind::video }) {
        const std::string codec = sendingCodec(sdp, kind);
        sending_[kind] = codec;
        for (auto &output : outputs_)
            output->expectCodec(kind, codec);
        RC_LOG_INFO("gateway: %s sends %s %s", peerId_.c_str(), mediaKindName(kind),
            codec.empty() ? "nothing" : codec.c_str());
    }
    // Adopted: we hold the promise until the signal has taken its own reference.
    GPtr<GstPromise> promise
        = adopt(Trampolines::promise(this, [](PeerReceiver &self, const GstStructure *reply) {
              self.onRemoteDescriptionSet(replyError(reply));
          }));
    g_signal_emit_by_name(
        webrtc_.get(), "set-remote-description", description.get(), promise.get());
}

void PeerReceiver::onRemoteDescriptionSet(const std::string &error)
{
    if (!error.empty()) {
        reportFailure("webrtcbin refused the answer: " + error);
        return;
    }
    remoteSet_ = true;
    for (const auto &[mline, candidate] : pendingCandidates_)
        addCandidateNow(mline, candidate);
    pendingCandidates_.clear();
}

void PeerReceiver::handleCandidate(const std::optional<protocol::Candidate> &candidate)
{
    // End of candidates (null or empty): libnice needs no notice of it.
    if (finishing_ || !candidate || candidate->candidate.empty())
        return;
    unsigned mline = 0;
    if (candidate->sdpMLineIndex && *candidate->sdpMLineIndex >= 0)
        mline = static_cast<unsigned>(*candidate->sdpMLineIndex);
    else if (candidate->sdpMid)
        mline = mlineForMid(localSdp_, *candidate->sdpMid).value_or(0);
    if (!remoteSet_)
        pendingCandidates_.emplace_back(mline, candidate->candidate);
    else
        addCandidateNow(mline, candidate->candidate);
}

void PeerReceiver::addCandidateNow(unsigned mline, const std::string &candidate)
{
    g_signal_emit_by_name(webrtc_.get(), "add-ice-candidate", mline, candidate.c_str());
}

void PeerReceiver::onLocalCandidate(unsigned mline, const std::string &candidate)
{
    if (finishing_ || !callbacks_.sendCandidate)
        return;
    protocol::Candidate c;
    c.candidate = candidate;
    c.sdpMLineIndex = static_cast<int>(mline);
    for (const auto &s : describeSections(localSdp_))
        if (s.index == mline && !s.mid.empty())
            c.sdpMid = s.mid;
    callbacks_.sendCandidate(c);
}

void PeerReceiver::onNewPad(GPtr<GstPad> pad, GPtr<GstCaps> caps, gulong blockProbe)
{
    // Count this pad's buffers for the media watchdog.
    auto last = std::shared_ptr<std::atomic<gint64>>(activity_, &activity_->lastBufferUs);
    gst_pad_add_probe(pad.get(),
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        activityProbe, new std::shared_ptr<std::atomic<gint64>>(last), deleteActivity);
    linkPad(pad.get(), caps.get());
    gst_pad_remove_probe(pad.get(), blockProbe);
}

void PeerReceiver::linkPad(GstPad *pad, GstCaps *caps)
{
    GstBin *bin = GST_BIN(pipeline_.get());
    MediaKind kind = MediaKind::audio;
    std::string codec, error;
    if (!StreamLinker::describePad(caps, kind, codec) || StreamLinker::elementsFor(codec).empty()) {
        RC_LOG_INFO(
            "gateway: %s: a pad the gateway cannot take goes to a fakesink", peerId_.c_str());
        if (!StreamLinker::linkToFakesink(bin, pad, error))
            reportFailure(error);
        return;
    }
    const std::string what = std::string(mediaKindName(kind)) + " " + codec;
    if (finishing_) {
        StreamLinker::linkToFakesink(bin, pad, error);
        return;
    }
    // The chain is built even when no output takes the stream yet: outputs
    // started later (control API) attach to its tee.
    auto built = StreamLinker::build(bin, kind, codec, error);
    if (!built) {
        std::string ignored;
        StreamLinker::linkToFakesink(bin, pad, ignored);
        RC_LOG_ERROR(
            "gateway: %s: cannot receive %s: %s", peerId_.c_str(), what.c_str(), error.c_str());
        reportFailure("cannot receive " + what + ": " + error);
        return;
    }
    chains_.push_back(std::move(*built));
    StreamChain &chain = chains_.back();
    // Branches first: the pad is still blocked, so the first keyframe reaches them.
    size_t attached = 0;
    for (auto &output : outputs_) {
        if (!output->takes(kind, codec))
            continue;
        if (attachOutput(chain, *output, error))
            ++attached;
        else
            RC_LOG_ERROR("gateway: %s: %s", peerId_.c_str(), error.c_str());
    }
    for (auto &feed : mixFeeds_)
        attachFeed(chain, *feed);
    if (gst_pad_link(pad, chain.sink.get()) != GST_PAD_LINK_OK) {
        std::string ignored;
        StreamLinker::linkToFakesink(bin, pad, ignored);
        reportFailure("cannot link webrtcbin's pad to the " + codec + " depayloader");
        return;
    }
    RC_LOG_INFO("gateway: %s: receiving %s into %zu output(s)%s", peerId_.c_str(), what.c_str(),
        attached, mixFeeds_.empty() ? "" : " and the room composite");
    if (chain.kind == MediaKind::video)
        requestKeyframe(chain);
}

void PeerReceiver::pollStats()
{
    if (!webrtc_ || finishing_)
        return;
    // Adopted: we hold the promise until the signal has taken its own reference.
    GPtr<GstPromise> promise = adopt(Trampolines::promise(
        this, [](PeerReceiver &self, const GstStructure *reply) { self.onStats(reply); }));
    g_signal_emit_by_name(webrtc_.get(), "get-stats", nullptr, promise.get());
}

void PeerReceiver::onStats(const GstStructure *reply)
{
    if (!reply)
        return;
    Stats next;
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
}

std::vector<std::string> PeerReceiver::negotiatedCodecs() const
{
    std::vector<std::string> out;
    for (MediaKind kind : { MediaKind::video, MediaKind::audio })
        if (auto it = sending_.find(kind); it != sending_.end() && !it->second.empty())
            out.push_back(it->second);
    return out;
}

void PeerReceiver::onIceState(int state)
{
    const auto s = static_cast<GstWebRTCICEConnectionState>(state);
    RC_LOG_DEBUG("gateway: %s: ICE state %d", peerId_.c_str(), state);
    if (s == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED) {
        reportFailure("ICE failed");
    } else if (s == GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED) {
        if (!iceDisconnectedSinceUs_)
            iceDisconnectedSinceUs_ = g_get_monotonic_time();
    } else if (s == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED
        || s == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED) {
        if (iceDisconnectedSinceUs_)
            RC_LOG_INFO("gateway: %s: ICE connected again", peerId_.c_str());
        iceDisconnectedSinceUs_ = 0;
    }
}

void PeerReceiver::onConnectionState(int state)
{
    if (static_cast<GstWebRTCPeerConnectionState>(state) == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
        reportFailure("peer connection failed (ICE or DTLS)");
}

bool PeerReceiver::mediaFlowing() const
{
    return activity_->lastBufferUs.load(std::memory_order_relaxed)
        && mediaIdle() < settings_.mediaTimeout;
}

std::chrono::milliseconds PeerReceiver::mediaIdle() const
{
    gint64 last = activity_->lastBufferUs.load(std::memory_order_relaxed);
    if (!last)
        last = startedAtUs_;
    return std::chrono::milliseconds((g_get_monotonic_time() - last) / 1000);
}

bool PeerReceiver::watchdog()
{
    if (finishing_)
        return false;
    const gint64 now = g_get_monotonic_time();
    const gint64 last = activity_->lastBufferUs.load(std::memory_order_relaxed);
    const gint64 mediaTimeoutUs = settings_.mediaTimeout.count() * 1000;
    if (!last && now - startedAtUs_ > settings_.setupTimeout.count() * 1000)
        reportFailure("no media " + std::to_string(settings_.setupTimeout.count() / 1000)
            + " s after the offer");
    else if (last && now - last > mediaTimeoutUs)
        reportFailure("no media for " + std::to_string(mediaTimeoutUs / 1000000) + " s");
    else if (iceDisconnectedSinceUs_ && now - iceDisconnectedSinceUs_ > mediaTimeoutUs)
        reportFailure("ICE disconnected for " + std::to_string(mediaTimeoutUs / 1000000) + " s");
    for (auto &output : outputs_)
        output->endStarvedEntries(kStarvedEntryGrace);
    // Until a video stream's first keyframe arrives, keep asking (a PLI can be lost or early).
    for (const auto &chain : chains_)
        if (chain.gate && !chain.gate->open.load(std::memory_order_acquire))
            requestKeyframe(chain);
    return true;
}

void PeerReceiver::reportFailure(const std::string &reason)
{
    if (failureReported_ || finishing_)
        return;
    failureReported_ = true;
    RC_LOG_WARN("gateway: participant %s: %s", peerId_.c_str(), reason.c_str());
    if (callbacks_.failed)
        callbacks_.failed(reason);
}

bool PeerReceiver::onBusMessage(GstMessage *message)
{
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
        const BusProblem problem = *readBusProblem(message, "unknown");
        const bool isError = problem.isError;
        const std::string &text = problem.message, &where = problem.sourcePath;
        // A network output's failure is expected operation (it is retried): a warning.
        const ParticipantOutput *culprit = outputContaining(GST_MESSAGE_SRC(message));
        const bool expected = culprit && culprit->network();
        rc::log::write(isError && !expected ? rc::log::Level::error : rc::log::Level::warning,
            "gateway: participant %s: %s: %s", peerId_.c_str(), where.c_str(), text.c_str());
        RC_LOG_DEBUG("gateway: %s", problem.debug.c_str());
        if (!isError)
            break;
        if (!gst_object_has_as_ancestor(GST_MESSAGE_SRC(message), GST_OBJECT(pipeline_.get()))) {
            // From an output already detached (a network sink posts more than once).
            break;
        }
        if (ParticipantOutput *out = outputContaining(GST_MESSAGE_SRC(message));
            out && out->network()) {
            // A network output failed (server refused, dropped, restarted): it
            // alone goes; the recordings and the participant keep going.
            RC_LOG_WARN("gateway: participant %s: output %s (template %s, %s) failed: %s",
                peerId_.c_str(), out->outputId().c_str(), out->pipelineTemplate().name.c_str(),
                rc::ops::redactUrl(out->url()).c_str(), text.c_str());
            detachOutput(*out);
            for (auto it = outputs_.begin(); it != outputs_.end(); ++it) {
                if (it->get() != out)
                    continue;
                auto doomed = std::move(*it);
                outputs_.erase(it);
                if (callbacks_.outputError)
                    callbacks_.outputError(*doomed, text);
                break;
            }
            checkOutputFinishes(false);
            checkFinalized();
            break;
        }
        for (const auto &branch : decodeBranches_) {
            if (!gst_object_has_as_ancestor(GST_MESSAGE_SRC(message), GST_OBJECT(branch.bin.get())))
                continue;
            // The composite loses this participant's picture or sound; its
            // recordings and streams do not.
            RC_LOG_WARN("gateway: participant %s: leaving the room composite: %s", peerId_.c_str(),
                text.c_str());
            removeMixFeed(branch.feed);
            return true;
        }
        if (finishing_)
            completeFinish(true); // an output broke while closing: close the rest now
        else
            reportFailure("pipeline error: " + text);
        break;
    }
    case GST_MESSAGE_ELEMENT: {
        GPtr<GstMessage> owned = forwardedMessage(message);
        if (!owned || GST_MESSAGE_TYPE(owned.get()) != GST_MESSAGE_EOS)
            break;
        for (auto &output : outputs_)
            if (GST_MESSAGE_SRC(owned.get()) == GST_OBJECT(output->bin()))
                output->markEos();
        checkOutputFinishes(false);
        checkFinalized();
        break;
    }
    default:
        break;
    }
    return true;
}

void PeerReceiver::finish(const std::string &reason)
{
    if (finishing_)
        return;
    finishing_ = true;
    RC_LOG_INFO("gateway: finishing participant %s (%s)", peerId_.c_str(), reason.c_str());
    watchdogTimer_.reset();
    if (!pipeline_) {
        completeFinish(false);
        return;
    }
    // What already arrived is still in the jitterbuffer for its latency: let it
    // out before closing the outputs, so a file ends where the media did.
    finalizeTimer_ = addTimeout(context_, kDrainTime, [this] {
        for (auto &output : outputs_)
            output->beginFinalize();
        finalizeTimer_ = addTimeout(context_, settings_.finalizeTimeout, [this] {
            // Released by completeFinish, after this dispatch returns false.
            completeFinish(true);
            return false;
        });
        checkFinalized();
        return false;
    });
}

void PeerReceiver::checkFinalized()
{
    if (!finishing_ || finished_)
        return;
    for (auto &output : outputs_)
        if (!output->finalizing())
            return; // still draining
    for (auto &output : outputs_)
        if (output->started() && !output->eosReached())
            return;
    completeFinish(false);
}

void PeerReceiver::completeFinish(bool timedOut)
{
    if (finished_)
        return;
    finished_ = true;
    if (timedOut)
        RC_LOG_WARN("gateway: participant %s: outputs did not finish within %lld ms; closing them "
                    "as they are",
            peerId_.c_str(), static_cast<long long>(settings_.finalizeTimeout.count()));
    if (pipeline_)
        gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    padAdded_.reset();
    iceCandidate_.reset();
    iceState_.reset();
    connectionState_.reset();
    for (auto &output : outputs_)
        if (callbacks_.outputFinished)
            callbacks_.outputFinished(*output);
    for (auto &f : outputFinishes_)
        if (f.done)
            post(context_, std::move(f.done));
    outputFinishes_.clear();
    // Sources are released from a later dispatch, never from inside their own.
    auto doomed = std::make_shared<std::vector<GPtr<GSource>>>();
    doomed->push_back(std::move(busWatch_));
    doomed->push_back(std::move(finalizeTimer_));
    doomed->push_back(std::move(outputFinishTimer_));
    doomed->push_back(std::move(statsTimer_));
    Weak weak = self_;
    post(context_, [weak, doomed] {
        doomed->clear();
        if (auto r = weak.lock(); r && *r && (*r)->callbacks_.finished) {
            // A copy: the owner may destroy the receiver (and its callbacks) from it.
            auto finished = (*r)->callbacks_.finished;
            finished();
        }
    });
}

} // namespace rc::gateway
