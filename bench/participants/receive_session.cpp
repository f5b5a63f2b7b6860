// The bare receiver's receive-only webrtcbin session with one sender; see receive_session.h.
// Its replies, SDP and candidates go through the test peer's shared plumbing
// (testpeer/candidate_exchange.h).
#include "receive_session.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/gst/ice_restriction.h"
#include "testpeer/candidate_exchange.h"
#include "testpeer/element_factory.h"
#include "testpeer/receive_counter.h"

#include <gst/webrtc/webrtc.h>

namespace rc::bench {
namespace {

using testpeer::tryMakeElement;

struct WeakRef
{
    WeakSelf<ReceiveSession>::Ref owner;
    GMainContext *context;
    std::shared_ptr<ReceiveSession::Timing> timing;
};

void freeWeakRef(gpointer data, GClosure *) noexcept
{
    delete static_cast<WeakRef *>(data);
}
void freeWeakRefNotify(gpointer data) noexcept
{
    delete static_cast<WeakRef *>(data);
}

template <typename F> void postToOwner(const WeakRef &ref, F fn)
{
    ref.owner.post(ref.context, std::move(fn));
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

GPtr<GstCaps> caps(const char *text)
{
    return GPtr<GstCaps>(gst_caps_from_string(text));
}

} // namespace

struct ReceiveSession::Trampolines
{
    static void negotiationNeeded(GstElement *, gpointer data) noexcept
    {
        postToOwner(
            *static_cast<WeakRef *>(data), [](ReceiveSession &s) { s.onNegotiationNeeded(); });
    }

    static void iceCandidate(GstElement *, guint mline, gchar *candidate, gpointer data) noexcept
    {
        std::string text = candidate ? candidate : "";
        postToOwner(*static_cast<WeakRef *>(data),
            [mline, text](ReceiveSession &s) { s.onLocalCandidate(mline, text); });
    }

    static void iceState(GObject *webrtc, GParamSpec *, gpointer data) noexcept
    {
        auto *ref = static_cast<WeakRef *>(data);
        GstWebRTCICEConnectionState state = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
        g_object_get(webrtc, "ice-connection-state", &state, nullptr);
        if (state != GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED
            && state != GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED)
            return;
        gint64 expected = 0;
        if (ref->timing->iceConnectedUs.compare_exchange_strong(expected, g_get_monotonic_time()))
            postToOwner(*ref, [](ReceiveSession &s) { s.onIceConnected(); });
    }

    static void padAdded(GstElement *, GstPad *pad, gpointer data) noexcept
    {
        if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
            return;
        // Hold the stream until the main context links it; its first buffer
        // says what it carries (the caps are set by then).
        gst_pad_add_probe(pad,
            static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER
                | GST_PAD_PROBE_TYPE_BUFFER_LIST),
            firstBuffer, new FirstBuffer { *static_cast<WeakRef *>(data) }, freeFirstBuffer);
    }

    static GstPadProbeReturn firstBuffer(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
    {
        auto *first = static_cast<FirstBuffer *>(data);
        if (first->posted.exchange(true))
            return GST_PAD_PROBE_OK;
        bool video = testpeer::padCarriesVideo(pad);
        gulong probe = info->id;
        std::shared_ptr<GstPad> shared(
            static_cast<GstPad *>(gst_object_ref(pad)), gst_object_unref);
        postToOwner(first->ref, [shared, probe, video](ReceiveSession &s) {
            s.onPadAdded(shared.get(), probe, video);
        });
        return GST_PAD_PROBE_OK; // stays blocked until the main context removes the probe
    }

    static GstPadProbeReturn videoOut(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
    {
        auto *ref = static_cast<WeakRef *>(data);
        GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
        ref->timing->videoFrames.fetch_add(1, std::memory_order_relaxed);
        if (b && !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT)) {
            gint64 expected = 0;
            if (ref->timing->firstKeyframeUs.compare_exchange_strong(
                    expected, g_get_monotonic_time()))
                postToOwner(*ref, [](ReceiveSession &s) { s.onFirstKeyframe(); });
        }
        return GST_PAD_PROBE_OK;
    }

    static void offerCreated(GstPromise *promise, gpointer data) noexcept
    {
        auto reply = testpeer::readWebrtcReply(promise, "offer");
        postToOwner(*static_cast<WeakRef *>(data),
            [desc = reply.desc, error = reply.error](
                ReceiveSession &s) { s.onOffer(desc, error); });
    }

    static void remoteSet(GstPromise *promise, gpointer data) noexcept
    {
        std::string error = testpeer::readWebrtcReply(promise, nullptr).error;
        postToOwner(
            *static_cast<WeakRef *>(data), [error](ReceiveSession &s) { s.onRemoteSet(error); });
    }
};

ReceiveSession::ReceiveSession(
    const Environment &env, std::string peerId, SendFn send, FailFn fail, ConnectedFn connected)
    : env_(env)
    , peerId_(std::move(peerId))
    , send_(std::move(send))
    , fail_(std::move(fail))
    , connectedFn_(std::move(connected))
    , candidates_(peerId_, send_)
    , timing_(std::make_shared<Timing>())
{ }

ReceiveSession::~ReceiveSession()
{
    self_.invalidate();
    handlers_.clear();
    if (bin_) {
        gst_element_set_state(bin_, GST_STATE_NULL);
        gst_bin_remove(env_.pipeline, bin_);
    }
    RC_LOG_INFO("received %llu video frames from %s",
        static_cast<unsigned long long>(timing_->videoFrames.load()), peerId_.c_str());
}

bool ReceiveSession::owns(GstObject *element) const noexcept
{
    return bin_ && element
        && (element == GST_OBJECT(bin_) || gst_object_has_as_ancestor(element, GST_OBJECT(bin_)));
}

bool ReceiveSession::start()
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
        RC_LOG_ERROR("session with %s: %s", peerId_.c_str(), error.c_str());
        return false;
    }
    auto connect = [this](const char *signal, GCallback cb) {
        gulong id = g_signal_connect_data(webrtc_, signal, cb,
            new WeakRef { self_.ref(), env_.context, timing_ }, freeWeakRef, GConnectFlags(0));
        handlers_.emplace_back(webrtc_, id);
    };
    connect("on-negotiation-needed", G_CALLBACK(Trampolines::negotiationNeeded));
    connect("on-ice-candidate", G_CALLBACK(Trampolines::iceCandidate));
    connect("notify::ice-connection-state", G_CALLBACK(Trampolines::iceState));
    connect("pad-added", G_CALLBACK(Trampolines::padAdded));
    // The hidden member's offer: receive-only video and audio (the spec).
    auto video = caps("application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96,"
                      "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true");
    auto audio
        = caps("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111,"
               "encoding-params=(string)2,minptime=(string)10,useinbandfec=(string)1");
    for (GstCaps *c : { video.get(), audio.get() }) {
        GstWebRTCRTPTransceiver *trans = nullptr;
        g_signal_emit_by_name(
            webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, c, &trans);
        if (trans)
            gst_object_unref(trans);
    }
    gst_bin_add(env_.pipeline, bin_);
    gst_element_sync_state_with_parent(bin_);
    return true;
}

void ReceiveSession::onNegotiationNeeded()
{
    if (offered_)
        return; // one offer per session; the bench never renegotiates
    offered_ = true;
    auto *promise = gst_promise_new_with_change_func(Trampolines::offerCreated,
        new WeakRef { self_.ref(), env_.context, timing_ }, freeWeakRefNotify);
    g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
    gst_promise_unref(promise);
}

void ReceiveSession::onOffer(
    std::shared_ptr<GstWebRTCSessionDescription> desc, const std::string &error)
{
    if (!desc) {
        fail("cannot create an offer: " + error);
        return;
    }
    g_signal_emit_by_name(webrtc_, "set-local-description", desc.get(), nullptr);
    std::string text = takeString(gst_sdp_message_as_text(desc->sdp));
    send_(protocol::encodeOffer(peerId_, text));
}

void ReceiveSession::handleAnswer(const std::string &sdp)
{
    auto parsed = webrtc_ ? testpeer::parseSdp(sdp) : nullptr;
    if (!parsed) {
        fail("unusable answer");
        return;
    }
    remoteSdp_ = std::move(parsed);
    candidates_.remoteChanging();
    GstSDPMessage *copy = nullptr;
    gst_sdp_message_copy(remoteSdp_.get(), &copy);
    GPtr<GstWebRTCSessionDescription> desc(
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, copy));
    auto *promise = gst_promise_new_with_change_func(Trampolines::remoteSet,
        new WeakRef { self_.ref(), env_.context, timing_ }, freeWeakRefNotify);
    g_signal_emit_by_name(webrtc_, "set-remote-description", desc.get(), promise);
    gst_promise_unref(promise);
}

void ReceiveSession::onRemoteSet(const std::string &error)
{
    if (!error.empty()) {
        fail("answer refused: " + error);
        return;
    }
    candidates_.remoteSet(webrtc_, remoteSdp_.get());
}

void ReceiveSession::handleCandidate(const std::optional<protocol::Candidate> &c)
{
    candidates_.fromPeer(webrtc_, remoteSdp_.get(), c);
}

void ReceiveSession::onLocalCandidate(unsigned mline, const std::string &candidate)
{
    candidates_.local(mline, candidate, nullptr); // the bench sends m-line indexes only
}

void ReceiveSession::onIceConnected()
{
    if (connected_)
        return;
    connected_ = true;
    RC_LOG_INFO("connected to %s", peerId_.c_str());
    if (connectedFn_)
        connectedFn_(peerId_);
}

void ReceiveSession::onFirstKeyframe()
{
    gint64 connectedAt = timing_->iceConnectedUs.load();
    gint64 keyAt = timing_->firstKeyframeUs.load();
    RC_LOG_INFO("first keyframe from %s %.1f ms after ICE connected", peerId_.c_str(),
        connectedAt ? (keyAt - connectedAt) / 1000.0 : -1.0);
}

void ReceiveSession::onPadAdded(GstPad *pad, gulong blockProbe, bool video)
{
    GstElement *depay = tryMakeElement(video ? "rtpvp8depay" : "rtpopusdepay");
    GstElement *sink = tryMakeElement("fakesink");
    if (!depay || !sink) {
        gst_pad_remove_probe(pad, blockProbe);
        return;
    }
    if (video)
        g_object_set(depay, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add_many(GST_BIN(bin_), depay, sink, nullptr);
    gst_element_link(depay, sink);
    if (video) {
        GPtr<GstPad> out(gst_element_get_static_pad(depay, "src"));
        gst_pad_add_probe(out.get(), GST_PAD_PROBE_TYPE_BUFFER, Trampolines::videoOut,
            new WeakRef { self_.ref(), env_.context, timing_ }, freeWeakRefNotify);
    }
    GPtr<GstPad> in(gst_element_get_static_pad(depay, "sink"));
    if (gst_pad_link(pad, in.get()) != GST_PAD_LINK_OK)
        RC_LOG_WARN("cannot link a stream from %s", peerId_.c_str());
    gst_element_sync_state_with_parent(depay);
    gst_element_sync_state_with_parent(sink);
    gst_pad_remove_probe(pad, blockProbe);
}

void ReceiveSession::fail(const std::string &why)
{
    RC_LOG_WARN("session with %s failed: %s", peerId_.c_str(), why.c_str());
    self_.post(env_.context, [id = peerId_, why, failFn = fail_](ReceiveSession &) {
        if (failFn)
            failFn(id, why);
    });
}

} // namespace rc::bench
