// One WHEP viewer's webrtcbin, answer and payload-type rewrite; see whep_viewer.h.
#include "gateway/whep/whep_viewer.h"

#include "common/base/main_context.h"
#include "common/gst/gst_helpers.h"
#include "common/gst/ice_restriction.h"

#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <chrono>
#include <memory>

namespace rc::gateway {
namespace {

using Ref = WeakSelf<WhepViewer>::Ref;

// How long gathering may take before the viewer gets a 503 (loopback takes milliseconds).
constexpr std::chrono::seconds kAnswerTimeout { 10 };

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

std::string replyError(const GstStructure *reply)
{
    if (!reply || !gst_structure_has_field(reply, "error"))
        return {};
    GError *error = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    auto owned = adopt(error);
    return owned ? owned->message : "unknown error";
}

// The payload type one viewer's branch gives its RTP, and the caps its webrtcbin pad was
// requested with (pad probe user data).
struct PtRewrite
{
    guint8 pt;
    GstCaps *caps; // owned
    ~PtRewrite() { gst_caps_unref(caps); }
};

gboolean copyField(GQuark field, const GValue *value, gpointer target) noexcept
{
    gst_structure_id_set_value(static_cast<GstStructure *>(target), field, value);
    return TRUE;
}

bool rewriteBuffer(GstBuffer **buffer, guint8 pt) noexcept
{
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(*buffer, GST_MAP_READ, &rtp))
        return false;
    const bool same = gst_rtp_buffer_get_payload_type(&rtp) == pt;
    gst_rtp_buffer_unmap(&rtp);
    if (same)
        return true;
    // The tee shares the buffer with the other viewers: copy (the header only, the payload
    // memory stays shared) before writing.
    *buffer = gst_buffer_make_writable(*buffer);
    if (!gst_rtp_buffer_map(*buffer, GST_MAP_READWRITE, &rtp))
        return false;
    gst_rtp_buffer_set_payload_type(&rtp, pt);
    gst_rtp_buffer_unmap(&rtp);
    return true;
}

GstPadProbeReturn rewritePt(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    const auto *rewrite = static_cast<PtRewrite *>(data);
    const guint8 pt = rewrite->pt;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        auto *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        if (!rewriteBuffer(&buffer, pt))
            return GST_PAD_PROBE_DROP;
        GST_PAD_PROBE_INFO_DATA(info) = buffer;
    } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        GstBufferList *list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
        const guint n = gst_buffer_list_length(list);
        for (guint i = 0; i < n; ++i) {
            GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
            GstBuffer *b = gst_buffer_list_get_writable(list, i); // copied if shared
            if (b && gst_rtp_buffer_map(b, GST_MAP_READWRITE, &rtp)) {
                gst_rtp_buffer_set_payload_type(&rtp, pt);
                gst_rtp_buffer_unmap(&rtp);
            }
        }
        GST_PAD_PROBE_INFO_DATA(info) = list;
    } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
            GstCaps *caps = nullptr;
            gst_event_parse_caps(event, &caps);
            // The stream's caps with every field of the pad's requested caps (payload type,
            // the offer's profile-level-id, feedback): webrtcbin accepts only a subset of those.
            GstCaps *copy = gst_caps_copy(caps);
            if (gst_caps_get_size(copy) > 0 && gst_caps_get_size(rewrite->caps) > 0)
                gst_structure_foreach(gst_caps_get_structure(rewrite->caps, 0), copyField,
                    gst_caps_get_structure(copy, 0));
            GstEvent *replaced = gst_event_new_caps(copy);
            gst_caps_unref(copy);
            gst_event_unref(event);
            GST_PAD_PROBE_INFO_DATA(info) = replaced;
        }
    }
    return GST_PAD_PROBE_OK;
}

// The shared encoder must not be negotiated down to one viewer's wishes (the offer's
// profile-level-id 42001f reads as "baseline", which x264's constrained baseline is not): the
// viewer's branch answers caps queries from upstream with "anything" and accepts any caps; the
// caps its webrtcbin sees are the rewritten ones (rewritePt).
GstPadProbeReturn isolateCaps(GstPad *, GstPadProbeInfo *info, gpointer) noexcept
{
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS) {
        GstCaps *filter = nullptr;
        gst_query_parse_caps(query, &filter);
        GstCaps *any = filter ? gst_caps_ref(filter) : gst_caps_new_any();
        gst_query_set_caps_result(query, any);
        gst_caps_unref(any);
        return GST_PAD_PROBE_HANDLED;
    }
    if (GST_QUERY_TYPE(query) == GST_QUERY_ACCEPT_CAPS) {
        gst_query_set_accept_caps_result(query, TRUE);
        return GST_PAD_PROBE_HANDLED;
    }
    return GST_PAD_PROBE_OK;
}

// On a viewer's tee pad: data for a branch that is flushing (shutting down) is dropped here, so
// that the tee sees OK instead of the FLUSHING that would stop the encoder for every viewer.
GstPadProbeReturn dropIntoFlushing(GstPad *pad, GstPadProbeInfo *, gpointer) noexcept
{
    GstPad *peer = gst_pad_get_peer(pad);
    const bool flushing = peer && GST_PAD_IS_FLUSHING(peer);
    if (peer)
        gst_object_unref(peer);
    return flushing ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

// "profile-level-id=42e01f;packetization-mode=1" -> that key's value, or "".
std::string fmtpValue(const std::string &fmtp, const std::string &key)
{
    size_t pos = 0;
    while (pos < fmtp.size()) {
        size_t end = fmtp.find(';', pos);
        if (end == std::string::npos)
            end = fmtp.size();
        std::string item = fmtp.substr(pos, end - pos);
        while (!item.empty() && item.front() == ' ')
            item.erase(0, 1);
        if (g_ascii_strncasecmp(item.c_str(), (key + "=").c_str(), key.size() + 1) == 0)
            return item.substr(key.size() + 1);
        pos = end + 1;
    }
    return {};
}

} // namespace

struct WhepViewer::Trampolines
{
    struct PromiseJob
    {
        Ref weak;
        GMainContext *context;
        std::function<void(WhepViewer &, const GstStructure *)> fn;
    };

    static void promiseReplied(GstPromise *promise, gpointer data) noexcept
    {
        auto *job = static_cast<PromiseJob *>(data);
        std::shared_ptr<GstStructure> reply;
        if (gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED) {
            if (const GstStructure *r = gst_promise_get_reply(promise))
                reply.reset(gst_structure_copy(r), gst_structure_free);
        }
        auto fn = job->fn;
        job->weak.post(job->context, [fn, reply](WhepViewer &self) { fn(self, reply.get()); });
    }

    static void deleteJob(gpointer data) noexcept { delete static_cast<PromiseJob *>(data); }

    static GPtr<GstPromise> promise(
        WhepViewer *self, std::function<void(WhepViewer &, const GstStructure *)> fn)
    {
        return adopt(gst_promise_new_with_change_func(promiseReplied,
            new PromiseJob { self->self_.ref(), self->context_, std::move(fn) }, deleteJob));
    }

    static void gatheringChanged(GObject *object, GParamSpec *, gpointer data) noexcept
    {
        const auto *handle = static_cast<Handle *>(data);
        gint state = 0;
        g_object_get(object, "ice-gathering-state", &state, nullptr);
        if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
            handle->weak.post(
                handle->context, [](WhepViewer &self) { self.onGatheringComplete(); });
    }

    static void connectionChanged(GObject *object, GParamSpec *, gpointer data) noexcept
    {
        const auto *handle = static_cast<Handle *>(data);
        gint state = 0;
        g_object_get(object, "connection-state", &state, nullptr);
        handle->weak.post(
            handle->context, [state](WhepViewer &self) { self.onConnectionState(state); });
    }
};

WhepViewer::WhepViewer(GMainContext *context, Settings settings, Callbacks callbacks)
    : context_(context)
    , settings_(std::move(settings))
    , callbacks_(std::move(callbacks))
    , log_("gateway: room " + settings_.room + ": whep " + settings_.id)
{ }

WhepViewer::~WhepViewer()
{
    self_.invalidate();
    detach();
}

bool WhepViewer::start(GstBin *bin, GstElement *videoTee, GstElement *audioTee,
    const WhepOffer &offer, const std::string &offerSdp, std::string &error)
{
    bin_ = ref(bin);
    GstElement *webrtc = makeElement("webrtcbin", nullptr, error);
    if (!webrtc)
        return false;
    webrtc_ = refSink(webrtc);
    gst_util_set_object_arg(G_OBJECT(webrtc), "bundle-policy", "max-bundle");
    if (!restrictIceAddresses(webrtc, settings_.iceAddresses, error))
        return false;
    gst_bin_add(bin, webrtc);
    const Handle h { self_.ref(), context_ };
    signals_.push_back(connectWeak(
        webrtc, "notify::ice-gathering-state", G_CALLBACK(Trampolines::gatheringChanged), h));
    signals_.push_back(connectWeak(
        webrtc, "notify::connection-state", G_CALLBACK(Trampolines::connectionChanged), h));
    if (videoTee && offer.videoPt >= 0
        && !addBranch(videoTee, "video", offer.videoPt, offer.videoFmtp, error))
        return false;
    if (audioTee && offer.audioPt >= 0 && !addBranch(audioTee, "audio", offer.audioPt, {}, error))
        return false;
    if (branches_.empty()) {
        error = "the room has none of the media the offer asks for";
        return false;
    }
    // Playing, webrtcbin first, before the tees can push into a branch: a buffer meeting a pad
    // still in NULL returns FLUSHING, which tee passes upstream, and that stopped the room's
    // encoder queue for good: every viewer's video ended when one viewer joined at the wrong
    // moment (the 20-viewer stall; see bench/RESULTS.md "WHEP live view").
    gst_element_sync_state_with_parent(webrtc);
    for (auto &b : branches_)
        gst_element_sync_state_with_parent(b.queue.get());
    if (!linkTees(error))
        return false;

    GstSDPMessage *raw = nullptr;
    if (gst_sdp_message_new_from_text(offerSdp.c_str(), &raw) != GST_SDP_OK || !raw) {
        if (raw)
            gst_sdp_message_free(raw);
        error = "the offer is not valid SDP";
        return false;
    }
    auto description = adopt(gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, raw));
    auto promise = Trampolines::promise(this,
        [](WhepViewer &self, const GstStructure *reply) { self.onRemoteSet(replyError(reply)); });
    g_signal_emit_by_name(webrtc, "set-remote-description", description.get(), promise.get());
    answerTimeout_ = addTimeout(context_, kAnswerTimeout, [ref = self_.ref()] {
        if (WhepViewer *self = ref.lock()) {
            g_source_unref(self->answerTimeout_.release()); // G_SOURCE_REMOVE ends it
            self->finishAnswer(false, "ICE gathering did not complete in time");
        }
        return false;
    });
    return true;
}

bool WhepViewer::addBranch(
    GstElement *tee, const char *media, int pt, const std::string &fmtp, std::string &error)
{
    GstElement *queue = makeElement("queue", nullptr, error);
    if (!queue)
        return false;
    // Leaky, short: a viewer whose webrtcbin blocks (before negotiation) or stalls drops its own
    // packets and never holds the tee (and so the other viewers) back.
    g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
        static_cast<guint64>(300 * GST_MSECOND), nullptr);
    gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
    Branch b;
    b.queue = ref(queue);
    b.tee = ref(tee);
    gst_bin_add(bin_.get(), queue);

    GPtr<GstCaps> caps;
    if (std::string(media) == "video") {
        caps = adopt(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video",
            "encoding-name", G_TYPE_STRING, "H264", "clock-rate", G_TYPE_INT, 90000, "payload",
            G_TYPE_INT, pt, "packetization-mode", G_TYPE_STRING, "1", "rtcp-fb-nack-pli",
            G_TYPE_BOOLEAN, TRUE, nullptr));
        const std::string profile = fmtpValue(fmtp, "profile-level-id");
        if (!profile.empty())
            gst_caps_set_simple(
                caps.get(), "profile-level-id", G_TYPE_STRING, profile.c_str(), nullptr);
    } else {
        caps = adopt(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio",
            "encoding-name", G_TYPE_STRING, "OPUS", "clock-rate", G_TYPE_INT, 48000, "payload",
            G_TYPE_INT, pt, nullptr));
    }
    auto src = adopt(gst_element_get_static_pad(queue, "src"));
    gst_pad_add_probe(src.get(),
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST
            | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
        rewritePt, new PtRewrite { static_cast<guint8>(pt), gst_caps_ref(caps.get()) },
        [](gpointer p) { delete static_cast<PtRewrite *>(p); });
    gst_pad_add_probe(
        src.get(), GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, isolateCaps, nullptr, nullptr);
    GstPadTemplate *tpl
        = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(webrtc_.get()), "sink_%u");
    auto sink = adopt(gst_element_request_pad(webrtc_.get(), tpl, nullptr, caps.get()));
    if (!sink) {
        error = std::string("webrtcbin refused a ") + media + " pad";
        return false;
    }
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_object_get(sink.get(), "transceiver", &trans, nullptr);
    auto transceiver = adopt(trans);
    if (transceiver) {
        g_object_set(transceiver.get(), "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
            "codec-preferences", caps.get(), nullptr);
    }
    if (gst_pad_link(src.get(), sink.get()) != GST_PAD_LINK_OK) {
        error = std::string("cannot link the ") + media + " branch to webrtcbin";
        return false;
    }
    branches_.push_back(std::move(b));
    return true;
}

bool WhepViewer::linkTees(std::string &error)
{
    for (auto &b : branches_) {
        b.teePad = adopt(gst_element_request_pad_simple(b.tee.get(), "src_%u"));
        if (!b.teePad) {
            error = "the room's tee gave no pad";
            return false;
        }
        gst_pad_add_probe(b.teePad.get(),
            static_cast<GstPadProbeType>(
                GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
            dropIntoFlushing, nullptr, nullptr);
        auto queueSink = adopt(gst_element_get_static_pad(b.queue.get(), "sink"));
        if (gst_pad_link(b.teePad.get(), queueSink.get()) != GST_PAD_LINK_OK) {
            error = "cannot link the viewer to the room's tees";
            return false;
        }
    }
    return true;
}

void WhepViewer::onRemoteSet(const std::string &error)
{
    if (answered_)
        return;
    if (!error.empty())
        return finishAnswer(false, "webrtcbin refused the offer: " + error);
    auto promise = Trampolines::promise(this, [](WhepViewer &self, const GstStructure *reply) {
        GstWebRTCSessionDescription *answer = nullptr;
        if (reply && gst_structure_has_field(reply, "answer"))
            gst_structure_get(
                reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
        self.onAnswerCreated(adopt(answer), replyError(reply));
    });
    g_signal_emit_by_name(webrtc_.get(), "create-answer", nullptr, promise.get());
}

void WhepViewer::onAnswerCreated(GPtr<GstWebRTCSessionDescription> answer, const std::string &error)
{
    if (answered_)
        return;
    if (!answer)
        return finishAnswer(
            false, "webrtcbin could not answer the offer" + (error.empty() ? "" : ": " + error));
    auto promise = Trampolines::promise(this, [](WhepViewer &self, const GstStructure *reply) {
        const std::string err = replyError(reply);
        if (!err.empty())
            return self.finishAnswer(false, "webrtcbin refused its answer: " + err);
        self.localSet_ = true;
        gint state = 0;
        g_object_get(self.webrtc_.get(), "ice-gathering-state", &state, nullptr);
        if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
            self.onGatheringComplete();
    });
    g_signal_emit_by_name(webrtc_.get(), "set-local-description", answer.get(), promise.get());
}

void WhepViewer::onGatheringComplete()
{
    if (answered_ || !localSet_)
        return;
    GstWebRTCSessionDescription *local = nullptr;
    g_object_get(webrtc_.get(), "local-description", &local, nullptr);
    auto owned = adopt(local);
    if (!owned || !owned->sdp)
        return finishAnswer(false, "webrtcbin has no local description");
    finishAnswer(true, takeString(gst_sdp_message_as_text(owned->sdp)));
}

void WhepViewer::finishAnswer(bool ok, const std::string &sdpOrError)
{
    if (answered_)
        return;
    answered_ = true;
    answerTimeout_.reset();
    if (!ok)
        log_.warn("cannot answer: %s", sdpOrError.c_str());
    if (callbacks_.answered)
        callbacks_.answered(ok, sdpOrError); // may destroy this
}

void WhepViewer::onConnectionState(int state)
{
    switch (state) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
        if (!connected_) {
            connected_ = true;
            log_.info("connected");
            if (callbacks_.connected)
                callbacks_.connected();
        }
        break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
        if (answered_ && callbacks_.ended)
            callbacks_.ended(state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED
                    ? "the connection failed"
                    : "the connection closed"); // may destroy this
        break;
    default:
        break;
    }
}

void WhepViewer::detach()
{
    answerTimeout_.reset();
    signals_.clear();
    for (auto &b : branches_) {
        if (b.teePad) {
            auto queueSink = adopt(gst_element_get_static_pad(b.queue.get(), "sink"));
            gst_pad_unlink(b.teePad.get(), queueSink.get());
            gst_element_release_request_pad(b.tee.get(), b.teePad.get());
            b.teePad.reset();
        }
    }
    // webrtcbin first: its sink pads then refuse data (flushing), which frees a queue thread
    // blocked in a push, so that stopping the queues below cannot wait on it forever.
    if (webrtc_) {
        gst_element_set_state(webrtc_.get(), GST_STATE_NULL);
        if (bin_)
            gst_bin_remove(bin_.get(), webrtc_.get());
        webrtc_.reset();
    }
    for (auto &b : branches_) {
        gst_element_set_state(b.queue.get(), GST_STATE_NULL);
        if (bin_)
            gst_bin_remove(bin_.get(), b.queue.get());
    }
    branches_.clear();
    bin_.reset();
}

} // namespace rc::gateway
