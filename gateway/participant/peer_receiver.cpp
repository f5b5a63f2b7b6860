// One participant's pipeline: its connection's pads into stream chains, health, finishing; see
// peer_receiver.h (its outputs and composite feeds are in peer_receiver_outputs.cpp).
#include "gateway/participant/peer_receiver.h"

#include "common/base/main_context.h"
#include "common/gst/bus_message.h"
#include "common/gst/gst_helpers.h"
#include "gateway/media/stream_linker.h"
#include "gateway/ops/output_params.h"

#include <atomic>

namespace rc::gateway {

// Last time any RTP-derived buffer left webrtcbin, and the first one after the latest silence
// (monotonic µs, 0: none yet); written by pad probes on streaming threads.
struct PeerReceiver::Activity
{
    std::atomic<gint64> lastBufferUs { 0 };
    std::atomic<gint64> resumedUs { 0 };
    // Last packet of any kind (RTP, RTCP, DTLS) out of webrtcbin's nicesrc: the link is alive.
    std::atomic<gint64> lastPacketUs { 0 };
};

namespace {

// How long an output waits for the second of audio/video once the first flows (a video stream may
// wait for its keyframe); a muxer holds everything back until every entry has data.
constexpr std::chrono::milliseconds kStarvedEntryGrace { 3000 };

// webrtcbin's jitterbuffer latency (200 ms by default) plus a margin.
constexpr std::chrono::milliseconds kDrainTime { 300 };

constexpr std::chrono::milliseconds kStatsInterval { 2000 };

// A pause in buffers this long makes the next buffer the end of a gap (audio alone comes every
// 20 ms; video at 30 fps every 33 ms).
constexpr gint64 kResumeSilenceUs = 500000;

ParticipantHealth::Ice iceOf(GstWebRTCICEConnectionState state) noexcept
{
    using Ice = ParticipantHealth::Ice;
    switch (state) {
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
        return Ice::Connected;
    case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
        return Ice::Disconnected;
    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
        return Ice::Failed;
    case GST_WEBRTC_ICE_CONNECTION_STATE_CHECKING:
        return Ice::Checking;
    default:
        return Ice::New;
    }
}

ParticipantHealth::Time monotonicNow() noexcept
{
    return ParticipantHealth::Time(g_get_monotonic_time());
}

// A monotonic time point as wall-clock time (the manifest's session clock).
std::chrono::system_clock::time_point wallClock(ParticipantHealth::Time t) noexcept
{
    return std::chrono::system_clock::now()
        - std::chrono::duration_cast<std::chrono::system_clock::duration>(monotonicNow() - t);
}

} // namespace

struct PeerReceiver::Probes
{
    static GstPadProbeReturn activity(GstPad *, GstPadProbeInfo *, gpointer data) noexcept
    {
        auto &activity = **static_cast<std::shared_ptr<Activity> *>(data);
        const gint64 now = g_get_monotonic_time();
        const gint64 before = activity.lastBufferUs.exchange(now, std::memory_order_relaxed);
        if (before && now - before > kResumeSilenceUs)
            activity.resumedUs.store(now, std::memory_order_relaxed);
        return GST_PAD_PROBE_OK;
    }

    static GstPadProbeReturn packet(GstPad *, GstPadProbeInfo *, gpointer data) noexcept
    {
        auto &activity = **static_cast<std::shared_ptr<Activity> *>(data);
        activity.lastPacketUs.store(g_get_monotonic_time(), std::memory_order_relaxed);
        return GST_PAD_PROBE_OK;
    }

    static void deleteActivity(gpointer data) noexcept
    {
        delete static_cast<std::shared_ptr<Activity> *>(data);
    }
};

PeerReceiver::PeerReceiver(GMainContext *context, std::string peerId, Settings settings,
    std::vector<std::unique_ptr<ParticipantOutput>> outputs, Callbacks callbacks)
    : context_(context)
    , peerId_(std::move(peerId))
    , settings_(std::move(settings))
    , callbacks_(std::move(callbacks))
    , log_("gateway")
    , peerLog_(log_.child(peerId_))
    , participantLog_(log_.child("participant " + peerId_))
    , outputs_(std::move(outputs))
    , activity_(std::make_shared<Activity>())
    , health_(healthLimits(settings_))
{
    connection_ = std::make_unique<PeerConnection>(
        context_, peerId_, connectionSettings(), connectionCallbacks());
    iceRestarts_ = !settings_.answerer;
}

PeerConnection::Settings PeerReceiver::connectionSettings() const
{
    return { { settings_.iceLocalAddresses, settings_.stunServer, settings_.turnServer,
                 settings_.relayOnly, settings_.videoCodecs, settings_.audioCodecs },
        settings_.bitrate, settings_.answerer };
}

PeerReceiver::~PeerReceiver()
{
    self_.invalidate();
    // Members then go in reverse order: timers, bus watch, chains, webrtcbin's handlers,
    // elements.
    if (pipeline_ && !finished_)
        gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

// Called on the main context by the connection, which the receiver owns and outlives.
PeerConnection::Callbacks PeerReceiver::connectionCallbacks()
{
    PeerConnection::Callbacks cb;
    cb.newPad = [this](GstPad *pad, GstCaps *caps) { onNewPad(pad, caps); };
    cb.localOffer = [this](const std::string &sdp) {
        if (callbacks_.sendOffer)
            callbacks_.sendOffer(sdp);
    };
    cb.localAnswer = [this](const std::string &sdp) {
        if (!finishing_ && callbacks_.sendAnswer)
            callbacks_.sendAnswer(sdp);
    };
    cb.localCandidate = [this](const protocol::Candidate &candidate) {
        if (!finishing_ && callbacks_.sendCandidate)
            callbacks_.sendCandidate(candidate);
    };
    cb.iceState = [this](GstWebRTCICEConnectionState state) { onIceState(state); };
    cb.connectionState = [this](GstWebRTCPeerConnectionState state) {
        // Follows ICE (the watchdog restarts it); DTLS itself never fails once it is up.
        if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
            participantLog_.info("peer connection failed (ICE or DTLS)");
    };
    cb.failed = [this](const std::string &reason) { reportFailure(reason); };
    return cb;
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
    if (!pipeline_) {
        error = "cannot create webrtcbin (gst-plugins-bad webrtc plugin missing?)";
        return false;
    }
    // Forwarded EOS messages tell us when each output's bin has finished.
    g_object_set(pipeline_.get(), "message-forward", TRUE, nullptr);
    if (!connection_->create(GST_BIN(pipeline_.get()), error))
        return false;
    for (auto &output : outputs_) {
        gst_bin_add(GST_BIN(pipeline_.get()), output->bin());
        watchOutput(*output);
    }

    GPtr<GstBus> bus = adopt(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
    busWatch_ = GPtr<GSource>(gst_bus_create_watch(bus.get()));
    g_source_set_callback(busWatch_.get(), G_SOURCE_FUNC(busMessage), this, nullptr);
    g_source_attach(busWatch_.get(), context_);

    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        error = "the participant's pipeline refused to start (see the log for the element)";
        return false;
    }
    health_.started(monotonicNow());
    watchdogTimer_
        = addTimeout(context_, std::chrono::milliseconds(1000), [this] { return watchdog(); });
    statsTimer_ = addTimeout(context_, kStatsInterval, [this] {
        if (!finishing_)
            connection_->pollStats();
        return !finishing_;
    });
    if (!settings_.answerer)
        connection_->createOffer();
    return true;
}

void PeerReceiver::handleAnswer(const std::string &sdp)
{
    if (finishing_ || connection_->answerReceived() || !connection_->created()) {
        log_.warn("ignoring an unexpected answer from %s", peerId_.c_str());
        return;
    }
    const bool restart = connection_->negotiated();
    if (!connection_->setAnswer(sdp) || restart)
        return; // an ICE restart's answer: the streams are those of the first
    if (reconnected_) {
        // The outputs were told what comes at the first answer; the new pads say the rest.
        for (MediaKind kind : { MediaKind::audio, MediaKind::video })
            log_.info("%s sends %s %s on the new connection", peerId_.c_str(), mediaKindName(kind),
                sendingCodec(sdp, kind).c_str());
        return;
    }
    // What will arrive: outputs whose template takes no stream of a kind end that entry now.
    for (MediaKind kind : { MediaKind::audio, MediaKind::video }) {
        const std::string codec = sendingCodec(sdp, kind);
        sending_[kind] = codec;
        for (auto &output : outputs_)
            output->expectCodec(kind, codec);
        log_.info("%s sends %s %s", peerId_.c_str(), mediaKindName(kind),
            codec.empty() ? "nothing" : codec.c_str());
    }
}

void PeerReceiver::handleCandidate(const std::optional<protocol::Candidate> &candidate)
{
    // End of candidates (null or empty): libnice needs no notice of it.
    if (finishing_ || !candidate)
        return;
    connection_->addRemoteCandidate(*candidate);
}

void PeerReceiver::onNewPad(GstPad *pad, GstCaps *caps)
{
    // Count this pad's buffers for the media watchdog.
    gst_pad_add_probe(pad,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        Probes::activity, new std::shared_ptr<Activity>(activity_), Probes::deleteActivity);
    linkPad(pad, caps);
}

void PeerReceiver::linkPad(GstPad *pad, GstCaps *caps)
{
    GstBin *bin = GST_BIN(pipeline_.get());
    MediaKind kind = MediaKind::audio;
    std::string codec, error;
    if (!StreamLinker::describePad(caps, kind, codec) || StreamLinker::elementsFor(codec).empty()) {
        peerLog_.info("a pad the gateway cannot take goes to a fakesink");
        if (!StreamLinker::linkToFakesink(bin, pad, error))
            reportFailure(error);
        return;
    }
    const std::string what = std::string(mediaKindName(kind)) + " " + codec;
    if (finishing_) {
        StreamLinker::linkToFakesink(bin, pad, error);
        return;
    }
    if (reconnected_ && linkToExistingChain(pad, kind, codec))
        return;
    // The chain is built even when no output takes the stream yet: outputs
    // started later (control API) attach to its tee.
    auto built = StreamChain::build(bin, kind, codec, error);
    if (!built) {
        std::string ignored;
        StreamLinker::linkToFakesink(bin, pad, ignored);
        peerLog_.error("cannot receive %s: %s", what.c_str(), error.c_str());
        broken_ = true;
        reportFailure("cannot receive " + what + ": " + error);
        return;
    }
    chains_.push_back(std::move(built));
    StreamChain &chain = *chains_.back();
    chain.reportFirstKeyframe(peerId_, iceConnectedUs_);
    // Branches first: the pad is still blocked, so the first keyframe reaches them.
    size_t attached = 0;
    for (auto &output : outputs_) {
        if (!output->takes(kind, codec))
            continue;
        if (attachOutput(chain, *output, error))
            ++attached;
        else
            peerLog_.error("%s", error.c_str());
    }
    for (auto &feed : mixFeeds_)
        attachFeed(chain, *feed);
    if (gst_pad_link(pad, chain.sink()) != GST_PAD_LINK_OK) {
        std::string ignored;
        StreamLinker::linkToFakesink(bin, pad, ignored);
        reportFailure("cannot link webrtcbin's pad to the " + codec + " depayloader");
        return;
    }
    peerLog_.info("receiving %s into %zu output(s)%s", what.c_str(), attached,
        mixFeeds_.empty() ? "" : " and the room composite");
    if (chain.kind() == MediaKind::video)
        requestKeyframe(chain);
}

void PeerReceiver::onIceState(GstWebRTCICEConnectionState state)
{
    peerLog_.debug("ICE state %d", static_cast<int>(state));
    const auto ice = iceOf(state);
    const bool everConnected = health_.connectedOnce();
    if (ice == ParticipantHealth::Ice::Connected && !iceConnectedUs_) {
        iceConnectedUs_ = g_get_monotonic_time();
        for (auto &chain : chains_)
            chain->connectedAt(iceConnectedUs_);
    }
    if (health_.iceState(ice, monotonicNow()))
        peerLog_.info("ICE connected again");
    if (ice == ParticipantHealth::Ice::Failed
        && ((!everConnected && !lastMedia()) || settings_.answerer)) {
        // The first negotiation never connected: offer again (the owner's retry), as a
        // restart would not help a peer that never reached us. A publisher that offered to us
        // is gone for good (a new session is its new POST).
        reportFailure("ICE failed");
    } else if (ice == ParticipantHealth::Ice::Failed
        || ice == ParticipantHealth::Ice::Disconnected) {
        peerLog_.info("ICE %s", ice == ParticipantHealth::Ice::Failed ? "failed" : "disconnected");
    }
}

std::optional<ParticipantHealth::Time> PeerReceiver::lastMedia() const noexcept
{
    const gint64 last = activity_->lastBufferUs.load(std::memory_order_relaxed);
    if (!last)
        return std::nullopt;
    return ParticipantHealth::Time(last);
}

bool PeerReceiver::mediaFlowing() const
{
    return health_.mediaFlowing(monotonicNow(), lastMedia());
}

std::chrono::milliseconds PeerReceiver::mediaIdle() const
{
    return health_.mediaIdle(monotonicNow(), lastMedia());
}

bool PeerReceiver::watchdog()
{
    if (finishing_)
        return false;
    if (!linkWatched_ && connection_->negotiated())
        watchLink();
    ParticipantHealth::Media media { lastMedia(), std::nullopt, std::nullopt };
    if (const gint64 resumed = activity_->resumedUs.load(std::memory_order_relaxed))
        media.resumed = ParticipantHealth::Time(resumed);
    if (const gint64 packet = activity_->lastPacketUs.load(std::memory_order_relaxed))
        media.link = ParticipantHealth::Time(packet);
    const auto verdict = health_.check(monotonicNow(), media);
    if (verdict.restartIce || !verdict.gaps.empty()
        || health_.gap() != ParticipantHealth::Gap::None)
        peerLog_.debug("health: ICE %d, media idle %lld ms, link idle %lld ms, gap %s",
            static_cast<int>(health_.ice()), static_cast<long long>(mediaIdle().count()),
            media.link ? static_cast<long long>((monotonicNow() - *media.link).count() / 1000)
                       : -1LL,
            ParticipantHealth::gapName(health_.gap()));
    reportGaps(verdict.gaps);
    if (verdict.failure)
        reportFailure(*verdict.failure);
    else if (!attached_ && health_.gap() != ParticipantHealth::Gap::None)
        reportFailure("detached and its media stopped");
    else if (verdict.restartIce && attached_ && iceRestarts_ && !failureReported_)
        connection_->restartIce();
    for (auto &output : outputs_)
        output->endStarvedEntries(kStarvedEntryGrace);
    // Until a video stream's first keyframe arrives, keep asking (a PLI can be lost or early).
    for (const auto &chain : chains_)
        if (chain->waitingForKeyframe())
            requestKeyframe(*chain);
    return true;
}

void PeerReceiver::watchLink()
{
    // webrtcbin's ICE does not notice a dead pair for its 25 s keepalive (libnice), and STUN
    // never leaves libnice: what its nicesrc pushes (RTP, RTCP, DTLS) is the sign of life.
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(pipeline_.get()));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        auto *element = GST_ELEMENT(g_value_get_object(&item));
        GstElementFactory *factory = gst_element_get_factory(element);
        if (factory && g_str_equal(GST_OBJECT_NAME(factory), "nicesrc")) {
            if (GPtr<GstPad> src = adopt(gst_element_get_static_pad(element, "src"))) {
                gst_pad_add_probe(src.get(),
                    static_cast<GstPadProbeType>(
                        GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    Probes::packet, new std::shared_ptr<Activity>(activity_),
                    Probes::deleteActivity);
                linkWatched_ = true;
            }
        }
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
}

void PeerReceiver::forgetLink() noexcept
{
    // The old nicesrc is gone; the new one is watched once negotiated.
    linkWatched_ = false;
    activity_->lastPacketUs.store(0, std::memory_order_relaxed);
}

void PeerReceiver::reportGaps(const std::vector<ParticipantHealth::GapChange> &changes)
{
    for (const auto &change : changes) {
        const auto ago
            = std::chrono::duration_cast<std::chrono::milliseconds>(monotonicNow() - change.at);
        participantLog_.info("%s gap %s (%lld ms ago)", ParticipantHealth::gapName(change.cause),
            change.started ? "began" : "ended", static_cast<long long>(ago.count()));
        if (callbacks_.gap)
            callbacks_.gap(change.cause, change.started, wallClock(change.at));
    }
}

gboolean PeerReceiver::busMessage(GstBus *, GstMessage *message, gpointer data) noexcept
{
    // The watch is destroyed with the receiver, on this same context.
    auto *self = static_cast<PeerReceiver *>(data);
    try {
        return self->onBusMessage(message) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    } catch (...) {
        return G_SOURCE_CONTINUE;
    }
}

bool PeerReceiver::onBusMessage(GstMessage *message)
{
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
        const BusProblem problem = *readBusProblem(message, "unknown");
        const bool isError = problem.isError;
        const std::string &text = problem.message, &where = problem.sourcePath;
        // An output's failure is expected operation (it fails alone and is retried): a warning.
        const ParticipantOutput *culprit = outputContaining(GST_MESSAGE_SRC(message));
        const bool expected = culprit != nullptr;
        participantLog_.write(
            isError && !expected ? rc::log::Level::error : rc::log::Level::warning, "%s: %s",
            where.c_str(), text.c_str());
        log_.debug("%s", problem.debug.c_str());
        if (!isError)
            break;
        if (!gst_object_has_as_ancestor(GST_MESSAGE_SRC(message), GST_OBJECT(pipeline_.get()))) {
            // From an output already detached (a network sink posts more than once).
            break;
        }
        if (ParticipantOutput *out = outputContaining(GST_MESSAGE_SRC(message))) {
            // An output failed (a server refused or dropped it, its disk is full): it alone
            // goes; the participant and its other outputs keep going.
            out->noteError(message);
            participantLog_.warn("output %s (template %s, %s) failed: %s", out->outputId().c_str(),
                out->pipelineTemplate().name.c_str(),
                (out->network() ? rc::ops::redactUrl(out->url()) : out->outputPath()).c_str(),
                text.c_str());
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
            participantLog_.warn("leaving the room composite: %s", text.c_str());
            removeMixFeed(branch.feed);
            return true;
        }
        if (finishing_)
            completeFinish(true); // an output broke while closing: close the rest now
        else {
            broken_ = true;
            reportFailure("pipeline error: " + text);
        }
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
    log_.info("finishing participant %s (%s)", peerId_.c_str(), reason.c_str());
    // A gap still open ends with the participant.
    if (health_.gap() != ParticipantHealth::Gap::None && callbacks_.gap)
        callbacks_.gap(health_.gap(), false, std::chrono::system_clock::now());
    connection_->close();
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
        participantLog_.warn("outputs did not finish within %lld ms; closing them as they are",
            static_cast<long long>(settings_.finalizeTimeout.count()));
    if (pipeline_)
        gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    connection_->disconnect();
    for (auto &output : outputs_)
        if (callbacks_.outputFinished)
            callbacks_.outputFinished(*output);
    for (auto &f : outputFinishes_)
        if (f.done)
            post(context_, std::move(f.done));
    outputFinishes_.clear();
    // Sources are released from a later dispatch, never from inside their own (this may run
    // from the finalize timer or the bus watch); finished is reported right after.
    std::vector<GPtr<GSource>> doomed;
    doomed.push_back(std::move(busWatch_));
    doomed.push_back(std::move(finalizeTimer_));
    doomed.push_back(std::move(outputFinishTimer_));
    doomed.push_back(std::move(statsTimer_));
    rc::releaseLater(context_, std::move(doomed));
    self_.post(context_, [](PeerReceiver &self) {
        if (self.callbacks_.finished) {
            // A copy: the owner may destroy the receiver (and its callbacks) from it.
            auto finished = self.callbacks_.finished;
            finished();
        }
    });
}

} // namespace rc::gateway
