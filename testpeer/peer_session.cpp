// A test peer's webrtcbin session with one remote peer; see peer_session.h.
#include "testpeer/peer_session.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/gst/ice_restriction.h"
#include "common/protocol/candidate_address.h"
#include "testpeer/candidate_exchange.h"
#include "testpeer/element_factory.h"

#include <gst/video/video.h>

namespace rc::testpeer {
namespace {

struct WeakRef
{
    WeakSelf<PeerSession>::Ref owner;
    GMainContext *context;
};

void freeWeakRef(gpointer data, GClosure *) noexcept
{
    delete static_cast<WeakRef *>(data);
}

// Runs fn(session) on the session's context if the session still exists.
template <typename F> void postToOwner(const WeakRef &ref, F fn)
{
    ref.owner.post(ref.context, std::move(fn));
}

enum class Reply { remoteSet, offer, answer };

struct PromiseData
{
    WeakRef ref;
    Reply kind;
};

void freePromiseData(gpointer data) noexcept
{
    delete static_cast<PromiseData *>(data);
}

struct FirstBuffer
{
    WeakRef ref;
    std::atomic<bool> posted { false };
};

void freeFirstBuffer(gpointer data) noexcept
{
    delete static_cast<FirstBuffer *>(data);
}

// Declares Opus as browsers do: no sprop-stereo. rtpopuspay derives it from its input (0 for a
// mono encoder) and webrtcbin puts it in the SDP, where another webrtcbin takes it as a limit on
// what it may send: a stereo test peer then failed to negotiate with a mono one. Browsers leave
// it out (the rtpmap's "/2" says nothing about what is coded), so the receiver learns the
// channels from the packets. Runs on the streaming thread; rewrites the event in place.
GstPadProbeReturn dropSpropStereo(GstPad *, GstPadProbeInfo *info, gpointer) noexcept
{
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS)
        return GST_PAD_PROBE_OK;
    GstCaps *caps = nullptr;
    gst_event_parse_caps(event, &caps);
    if (!caps || gst_caps_get_size(caps) == 0
        || !gst_structure_has_field(gst_caps_get_structure(caps, 0), "sprop-stereo"))
        return GST_PAD_PROBE_OK;
    GPtr<GstCaps> plain(gst_caps_copy(caps));
    for (guint i = 0; i < gst_caps_get_size(plain.get()); ++i)
        gst_structure_remove_field(gst_caps_get_structure(plain.get(), i), "sprop-stereo");
    GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_caps(plain.get());
    gst_event_unref(event);
    return GST_PAD_PROBE_OK;
}

std::shared_ptr<GstPad> sharePad(GstPad *pad)
{
    return std::shared_ptr<GstPad>(static_cast<GstPad *>(gst_object_ref(pad)), gst_object_unref);
}

} // namespace

struct PeerSession::Trampolines
{
    static void padAdded(GstElement *, GstPad *pad, gpointer data) noexcept
    {
        if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
            return;
        // Hold the stream until the main context has linked it (an unlinked
        // webrtcbin src pad fails the receive path with not-linked). The
        // first buffer tells what the pad carries: its caps are set by then.
        auto *ref = new FirstBuffer { *static_cast<WeakRef *>(data) };
        gst_pad_add_probe(pad,
            static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER
                | GST_PAD_PROBE_TYPE_BUFFER_LIST),
            firstBuffer, ref, freeFirstBuffer);
    }

    static GstPadProbeReturn firstBuffer(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
    {
        auto *first = static_cast<FirstBuffer *>(data);
        if (first->posted.exchange(true))
            return GST_PAD_PROBE_OK;
        bool video = padCarriesVideo(pad);
        gulong probe = info->id;
        auto shared = sharePad(pad);
        postToOwner(first->ref, [shared, probe, video](PeerSession &s) {
            s.onPadAdded(ref(shared.get()), probe, video);
        });
        return GST_PAD_PROBE_OK; // stays blocked until the main context removes the probe
    }

    static void iceCandidate(GstElement *, guint mline, gchar *candidate, gpointer data) noexcept
    {
        std::string text = candidate ? candidate : "";
        postToOwner(*static_cast<WeakRef *>(data),
            [mline, text](PeerSession &s) { s.onLocalCandidate(mline, text); });
    }

    static void negotiationNeeded(GstElement *, gpointer data) noexcept
    {
        postToOwner(*static_cast<WeakRef *>(data), [](PeerSession &s) { s.onNegotiationNeeded(); });
    }

    static void iceConnectionState(GObject *, GParamSpec *, gpointer data) noexcept
    {
        postToOwner(
            *static_cast<WeakRef *>(data), [](PeerSession &s) { s.onIceConnectionState(); });
    }

    static void iceGatheringState(GObject *, GParamSpec *, gpointer data) noexcept
    {
        postToOwner(*static_cast<WeakRef *>(data), [](PeerSession &s) { s.onIceGatheringState(); });
    }

    static void promiseDone(GstPromise *promise, gpointer data) noexcept
    {
        auto *d = static_cast<PromiseData *>(data);
        const char *field = d->kind == Reply::remoteSet ? nullptr
            : d->kind == Reply::offer                   ? "offer"
                                                        : "answer";
        WebrtcReply reply = readWebrtcReply(promise, field);
        Description desc = std::move(reply.desc);
        std::string error = std::move(reply.error);
        Reply kind = d->kind;
        postToOwner(d->ref, [kind, desc, error](PeerSession &s) {
            if (kind == Reply::remoteSet)
                s.onRemoteSet(error.empty(), error);
            else
                s.onDescriptionCreated(desc, error);
        });
    }
};

PeerSession::PeerSession(
    const Environment &env, std::string peerId, SendFn send, FailFn fail, ConnectedFn connected)
    : env_(env)
    , peerId_(std::move(peerId))
    , send_(std::move(send))
    , fail_(std::move(fail))
    , connectedFn_(std::move(connected))
    , candidates_(peerId_, send_, env_.logPrefix)
{ }

PeerSession::~PeerSession()
{
    self_.invalidate();
    handlers_.clear();
    // Tee pads first: tee ignores a push that races with the release of its
    // pad, whereas a branch already at NULL would answer it with flushing.
    for (auto &b : branches_)
        gst_element_release_request_pad(b.tee, b.teePad.get());
    branches_.clear();
    if (bin_) {
        gst_element_set_state(bin_, GST_STATE_NULL);
        gst_bin_remove(env_.pipeline, bin_);
    }
    if (receiver_)
        RC_LOG_INFO("%sreceived %llu video frames from %s", env_.logPrefix.c_str(),
            static_cast<unsigned long long>(receiver_->videoFrames()), peerId_.c_str());
    receiver_.reset();
    videoPaySinks_.clear();
    webrtcSinks_.clear();
}

uint64_t PeerSession::videoFramesReceived() const noexcept
{
    return receiver_ ? receiver_->videoFrames() : 0;
}

bool PeerSession::owns(GstObject *element) const noexcept
{
    return bin_ && element
        && (element == GST_OBJECT(bin_) || gst_object_has_as_ancestor(element, GST_OBJECT(bin_)));
}

bool PeerSession::build()
{
    GstElement *webrtc = tryMakeElement("webrtcbin");
    if (!webrtc)
        return false;
    binRef_ = refSink(gst_bin_new(nullptr));
    bin_ = binRef_.get();
    webrtc_ = webrtc;
    gst_bin_add(GST_BIN(bin_), webrtc_);
    g_object_set(webrtc_, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
    std::string error;
    if (!restrictIceAddresses(webrtc_, env_.iceAddresses, error)) {
        RC_LOG_ERROR(
            "%ssession with %s: %s", env_.logPrefix.c_str(), peerId_.c_str(), error.c_str());
        return false;
    }
    receiver_ = std::make_unique<ReceiveCounter>(GST_BIN(bin_));

    auto connect = [this](gpointer instance, const char *signal, GCallback cb) {
        gulong id = g_signal_connect_data(instance, signal, cb,
            new WeakRef { self_.ref(), env_.context }, freeWeakRef, GConnectFlags(0));
        handlers_.emplace_back(instance, id);
    };
    connect(webrtc_, "pad-added", G_CALLBACK(Trampolines::padAdded));
    connect(webrtc_, "on-ice-candidate", G_CALLBACK(Trampolines::iceCandidate));
    connect(webrtc_, "on-negotiation-needed", G_CALLBACK(Trampolines::negotiationNeeded));
    connect(webrtc_, "notify::ice-connection-state", G_CALLBACK(Trampolines::iceConnectionState));
    connect(webrtc_, "notify::ice-gathering-state", G_CALLBACK(Trampolines::iceGatheringState));

    gst_bin_add(env_.pipeline, bin_);
    return true;
}

GstPad *PeerSession::requestSendPad(GstCaps *caps, GstWebRTCRTPTransceiverDirection direction)
{
    GstPadTemplate *templ = gst_element_get_pad_template(webrtc_, "sink_%u"); // borrowed
    GstPad *pad = gst_element_request_pad(webrtc_, templ, nullptr, nullptr);
    if (!pad)
        return nullptr;
    webrtcSinks_.push_back(adopt(pad));
    GstWebRTCRTPTransceiver *raw = nullptr;
    g_object_get(pad, "transceiver", &raw, nullptr);
    auto trans = adopt(raw);
    if (!trans)
        return nullptr;
    // webrtcbin 1.22 ignores the caps of a pad request: preferences go on
    // the transceiver, and must intersect with what our payloader sends.
    g_object_set(trans.get(), "codec-preferences", caps, "direction", direction, nullptr);
    return pad;
}

bool PeerSession::attachTrack(
    MediaKind kind, GstPad *webrtcSink, int pt, const std::string &h264ProfileLevelId)
{
    bool video = kind == MediaKind::video;
    GstElement *tee = video ? env_.tracks->videoTee() : env_.tracks->audioTee();
    const VideoCodec codec = env_.tracks->videoCodec();
    const char *payName = !video   ? "rtpopuspay"
        : codec == VideoCodec::vp8 ? "rtpvp8pay"
        : codec == VideoCodec::vp9 ? "rtpvp9pay"
                                   : "rtph264pay";
    GstElement *queue = tryMakeElement("queue");
    GstElement *pay = tryMakeElement(payName);
    if (!queue || !pay || !webrtcSink) {
        if (queue)
            gst_object_unref(gst_object_ref_sink(queue));
        if (pay)
            gst_object_unref(gst_object_ref_sink(pay));
        return false;
    }
    // A stalled peer drops its own oldest data rather than blocking the shared encoder.
    gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
    g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
        static_cast<guint64>(500 * GST_MSECOND), nullptr);
    g_object_set(pay, "pt", static_cast<guint>(pt), "mtu", 1200u, nullptr);
    if (video && (codec == VideoCodec::vp8 || codec == VideoCodec::vp9))
        gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
    if (video && env_.tracks->videoCodec() == VideoCodec::h264) {
        // SPS/PPS before every IDR, so a receiver can start at any keyframe.
        g_object_set(pay, "config-interval", -1, nullptr);
        gst_util_set_object_arg(G_OBJECT(pay), "aggregate-mode", "zero-latency");
    }
    gst_bin_add_many(GST_BIN(bin_), queue, pay, nullptr);
    GstElement *last = pay;
    if (video && env_.tracks->videoCodec() == VideoCodec::h264) {
        // x264 writes constraint flags 0xc0 (42c01f); the m-line says what
        // was negotiated (42e01f for Chromium), the same constrained baseline.
        GstElement *setter = tryMakeElement("capssetter");
        if (!setter)
            return false;
        GPtr<GstCaps> fix(gst_caps_new_simple("application/x-rtp", "profile-level-id",
            G_TYPE_STRING, h264ProfileLevelId.c_str(), nullptr));
        g_object_set(setter, "caps", fix.get(), nullptr);
        gst_bin_add(GST_BIN(bin_), setter);
        if (!gst_element_link(pay, setter))
            return false;
        gst_element_sync_state_with_parent(setter);
        last = setter;
    }
    GPtr<GstPad> paySrc(gst_element_get_static_pad(last, "src"));
    if (!video)
        gst_pad_add_probe(
            paySrc.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, dropSpropStereo, nullptr, nullptr);
    if (!gst_element_link(queue, pay)
        || gst_pad_link(paySrc.get(), webrtcSink) != GST_PAD_LINK_OK) {
        RC_LOG_ERROR("%ssession with %s: cannot link the %s branch", env_.logPrefix.c_str(),
            peerId_.c_str(), video ? "video" : "audio");
        return false;
    }
    GPtr<GstPad> queueSink(gst_element_get_static_pad(queue, "sink"));
    GstPad *ghost = gst_ghost_pad_new(nullptr, queueSink.get());
    gst_pad_set_active(ghost, TRUE);
    gst_element_add_pad(bin_, ghost);
    gst_element_sync_state_with_parent(queue);
    gst_element_sync_state_with_parent(pay);
    GstPad *teePad = gst_element_request_pad_simple(tee, "src_%u");
    branches_.push_back({ adopt(teePad), tee });
    if (gst_pad_link(teePad, ghost) != GST_PAD_LINK_OK)
        return false;
    if (video)
        videoPaySinks_.push_back(adopt(gst_element_get_static_pad(pay, "sink")));
    return true;
}

bool PeerSession::startOffer()
{
    if (webrtc_ || !build())
        return false;
    // PLAYING before any branch links to a tee: a push into a branch still
    // at NULL returns flushing, and tee hands that back to the shared
    // encoder, which then stops for every peer.
    gst_element_sync_state_with_parent(bin_);
    VideoCodec codec = env_.tracks->videoCodec();
    int videoPt = codec == VideoCodec::vp8 ? kOfferSendVp8Pt
        : codec == VideoCodec::vp9         ? kOfferSendVp9Pt
                                           : kOfferSendH264Pt;
    // m0: our video, send-only; m1: theirs, in either codec; m2: audio both ways.
    // Two video m-lines let a VP8 peer and an H264 peer see each other.
    GstPad *videoSink = requestSendPad(
        videoSendCaps(codec, videoPt).get(), GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY);
    bool ok = attachTrack(MediaKind::video, videoSink, videoPt, kH264ProfileLevelId);
    GstWebRTCRTPTransceiver *recv = nullptr;
    g_signal_emit_by_name(webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
        videoReceiveCaps(kOfferRecvVp8Pt, kOfferRecvH264Pt).get(), &recv);
    if (recv)
        gst_object_unref(recv);
    GstPad *audioSink = requestSendPad(
        opusCaps(kOfferOpusPt).get(), GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV);
    ok = ok && attachTrack(MediaKind::audio, audioSink, kOfferOpusPt);
    if (!ok) {
        fail("cannot attach our tracks");
        return false;
    }
    // on-negotiation-needed (posted here, so after this returns) creates
    // the offer, with every transceiver above in it.
    offerPending_ = true;
    return true;
}

void PeerSession::onNegotiationNeeded()
{
    if (!offerPending_)
        return; // we answer; or our one offer is out
    offerPending_ = false;
    awaitingAnswer_ = true;
    auto promise = adopt(gst_promise_new_with_change_func(Trampolines::promiseDone,
        new PromiseData { { self_.ref(), env_.context }, Reply::offer }, freePromiseData));
    g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise.get());
}

void PeerSession::handleOffer(const std::string &sdp)
{
    // Candidates in the SDP go to ICE too: only IP literals (see candidate_address.h).
    auto parsed = parseSdp(protocol::withoutHostnameCandidates(sdp));
    if (!parsed) {
        fail("unparsable offer");
        return;
    }
    remoteSdp_ = std::move(parsed);
    plan_ = planAnswer(remoteSdp_.get(), env_.tracks->videoCodec());
    if (!webrtc_) {
        if (!build()) {
            fail("cannot create webrtcbin");
            return;
        }
        gst_element_sync_state_with_parent(bin_);
    }
    remoteIsOffer_ = true;
    setRemote(GST_WEBRTC_SDP_TYPE_OFFER);
}

void PeerSession::handleAnswer(const std::string &sdp)
{
    auto parsed = webrtc_ ? parseSdp(protocol::withoutHostnameCandidates(sdp)) : nullptr;
    if (!parsed) {
        RC_LOG_WARN("%signoring an answer from %s that we cannot use", env_.logPrefix.c_str(),
            peerId_.c_str());
        return;
    }
    remoteSdp_ = std::move(parsed);
    remoteIsOffer_ = false;
    awaitingAnswer_ = false;
    setRemote(GST_WEBRTC_SDP_TYPE_ANSWER);
}

void PeerSession::setRemote(GstWebRTCSDPType type)
{
    candidates_.remoteChanging();
    GstSDPMessage *copy = nullptr;
    gst_sdp_message_copy(remoteSdp_.get(), &copy);
    GPtr<GstWebRTCSessionDescription> desc(gst_webrtc_session_description_new(type, copy));
    auto promise = adopt(gst_promise_new_with_change_func(Trampolines::promiseDone,
        new PromiseData { { self_.ref(), env_.context }, Reply::remoteSet }, freePromiseData));
    g_signal_emit_by_name(webrtc_, "set-remote-description", desc.get(), promise.get());
}

void PeerSession::onRemoteSet(bool ok, const std::string &error)
{
    if (!ok) {
        fail("remote description refused: " + error);
        return;
    }
    candidates_.remoteSet(webrtc_, remoteSdp_.get());
    if (!remoteIsOffer_)
        return;
    applyAnswerPlan();
    auto promise = adopt(gst_promise_new_with_change_func(Trampolines::promiseDone,
        new PromiseData { { self_.ref(), env_.context }, Reply::answer }, freePromiseData));
    g_signal_emit_by_name(webrtc_, "create-answer", nullptr, promise.get());
}

void PeerSession::applyAnswerPlan()
{
    // webrtcbin 1.22 binds a remote offer's m-lines to transceivers only in
    // create-answer, taking unassociated ones of the matching kind in order;
    // so one transceiver per new m-line, created in m-line order, carries our
    // choice of direction and codec into the answer.
    for (const LinePlan &line : plan_) {
        if (line.kind == MediaKind::other || !line.caps || configuredLines_.count(line.index))
            continue;
        configuredLines_.insert(line.index);
        GstPad *sink = nullptr;
        bool made = false;
        if (line.send) {
            sink = requestSendPad(line.caps.get(), line.direction());
            made = sink != nullptr;
        } else {
            GstWebRTCRTPTransceiver *raw = nullptr;
            g_signal_emit_by_name(
                webrtc_, "add-transceiver", line.direction(), line.caps.get(), &raw);
            auto trans = adopt(raw);
            made = trans != nullptr;
        }
        if (!made) {
            RC_LOG_WARN("%soffer from %s: cannot make a transceiver for m-line %u",
                env_.logPrefix.c_str(), peerId_.c_str(), line.index);
            continue;
        }
        if (line.send
            && !attachTrack(line.kind, sink, line.pt, h264ProfileLevelId(line.caps.get())))
            RC_LOG_WARN("%soffer from %s: cannot attach our %s track", env_.logPrefix.c_str(),
                peerId_.c_str(), line.kind == MediaKind::video ? "video" : "audio");
    }
}

void PeerSession::onDescriptionCreated(Description desc, const std::string &error)
{
    if (!desc) {
        fail("cannot create " + std::string(remoteIsOffer_ ? "answer" : "offer") + ": " + error);
        return;
    }
    GstSDPMessage *copy = nullptr;
    gst_sdp_message_copy(desc->sdp, &copy);
    localSdp_ = adopt(copy);
    g_signal_emit_by_name(webrtc_, "set-local-description", desc.get(), nullptr);
    std::string text = takeString(gst_sdp_message_as_text(desc->sdp));
    bool isOffer = desc->type == GST_WEBRTC_SDP_TYPE_OFFER;
    RC_LOG_DEBUG("%sour %s to %s:\n%s", env_.logPrefix.c_str(), isOffer ? "offer" : "answer",
        peerId_.c_str(), text.c_str());
    std::string msg
        = isOffer ? protocol::encodeOffer(peerId_, text) : protocol::encodeAnswer(peerId_, text);
    if (!send_(msg))
        RC_LOG_WARN("%scannot send our %s to %s: not joined", env_.logPrefix.c_str(),
            isOffer ? "offer" : "answer", peerId_.c_str());
}

void PeerSession::onLocalCandidate(unsigned mline, const std::string &candidate)
{
    candidates_.local(mline, candidate, localSdp_.get());
}

void PeerSession::onIceGatheringState()
{
    if (!webrtc_)
        return;
    GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
    g_object_get(webrtc_, "ice-gathering-state", &state, nullptr);
    if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
        candidates_.endOfCandidates();
}

void PeerSession::onIceConnectionState()
{
    if (!webrtc_)
        return;
    GstWebRTCICEConnectionState state = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
    g_object_get(webrtc_, "ice-connection-state", &state, nullptr);
    if ((state == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED
            || state == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED)
        && !connected_) {
        connected_ = true;
        RC_LOG_INFO("%sconnected to %s", env_.logPrefix.c_str(), peerId_.c_str());
        requestKeyframe();
        if (connectedFn_)
            connectedFn_(peerId_);
    } else if (state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED) {
        fail("ICE failed");
    }
}

void PeerSession::requestKeyframe()
{
    // A new receiver needs a keyframe now, not at the encoder's next interval.
    for (auto &pad : videoPaySinks_)
        gst_pad_push_event(
            pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

void PeerSession::onPadAdded(GPtr<GstPad> pad, gulong blockProbe, bool video)
{
    RC_LOG_DEBUG("%s%s sends us %s on %s", env_.logPrefix.c_str(), peerId_.c_str(),
        video ? "video" : "audio", GST_PAD_NAME(pad.get()));
    if (receiver_)
        receiver_->attach(pad.get(), blockProbe, video);
}

void PeerSession::handleCandidate(const std::optional<protocol::Candidate> &candidate)
{
    candidates_.fromPeer(webrtc_, remoteSdp_.get(), candidate);
}

void PeerSession::fail(const std::string &why)
{
    RC_LOG_WARN(
        "%ssession with %s failed: %s", env_.logPrefix.c_str(), peerId_.c_str(), why.c_str());
    // The owner destroys us, from a fresh dispatch rather than inside our own call.
    self_.post(env_.context, [id = peerId_, why, failFn = fail_](PeerSession &) {
        if (failFn)
            failFn(id, why);
    });
}

} // namespace rc::testpeer
