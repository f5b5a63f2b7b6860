// The room's WHEP encoder bin and its viewers; see whep_room.h.
#include "gateway/whep/whep_room.h"

#include "common/base/main_context.h"
#include "common/gst/gst_helpers.h"
#include "gateway/composite/room_mixer.h"

#include <gst/video/video.h>

namespace rc::gateway {
namespace {

// At most one forced keyframe a second for all the viewers of a room.
constexpr std::chrono::milliseconds kMinKeyframeInterval { 1000 };

// The payloader's src pad (upstream events): every viewer's PLI/FIR arrives here through the tee
// as a force-key-unit event, on a streaming thread. Unthrottled, each made a keyframe of its own
// (20 viewers asking after losses: every frame a keyframe), so the event stops here and the room
// decides on its main context (WhepRoom::keyframeWanted).
// GstVideoEncoder's own min-force-key-unit-interval cannot do it with x264enc in 1.22: its first
// forced keyframe is recorded at x264enc's 1000-hour running-time offset, and every later
// request is then "throttled" for good (seen in the encoder's debug log).
struct KeyframeProbe
{
    WeakSelf<WhepRoom>::Ref room;
    GMainContext *context;
};

GstPadProbeReturn interceptKeyframeRequest(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (!event || !gst_video_event_is_force_key_unit(event))
        return GST_PAD_PROBE_OK;
    const auto *probe = static_cast<KeyframeProbe *>(data);
    probe->room.post(probe->context, [](WhepRoom &room) { room.requestKeyframe(); });
    return GST_PAD_PROBE_DROP;
}

GstElement *add(GstBin *bin, const char *factory, const char *name, std::string &error)
{
    GstElement *e = makeElement(factory, name, error);
    if (e)
        gst_bin_add(bin, e);
    return e;
}

bool ghost(GstBin *bin, GstElement *first, const char *name)
{
    auto target = adopt(gst_element_get_static_pad(first, "sink"));
    return gst_element_add_pad(GST_ELEMENT(bin), gst_ghost_pad_new(name, target.get()));
}

} // namespace

WhepRoom::WhepRoom(GMainContext *context, Settings settings, Host host)
    : context_(context)
    , settings_(std::move(settings))
    , host_(std::move(host))
    , log_("gateway: room " + settings_.room + ": whep")
{ }

WhepRoom::~WhepRoom()
{
    self_.invalidate();
    stop();
}

void WhepRoom::addViewer(const std::string &offerSdp, AnswerDone done)
{
    WhepOfferError offerError;
    auto offer = parseWhepOffer(offerSdp, offerError);
    if (!offer)
        return done({ false, {}, {}, 400, "bad_sdp", offerError.message });
    std::string error;
    if (!bin_ && !startEncoder(error)) {
        log_.error("cannot start the encoder: %s", error.c_str());
        return done({ false, {}, {}, 503, "unavailable", "cannot start the live view: " + error });
    }
    const std::string id = takeString(g_uuid_string_random());
    WhepViewer::Callbacks cb;
    auto ref = self_.ref();
    cb.answered = [ref, id, done](bool ok, const std::string &sdpOrError) {
        WhepRoom *self = ref.lock();
        if (!self)
            return done({ false, {}, {}, 503, "unavailable", "the room's live view stopped" });
        if (!ok) {
            // Out of the viewer's own callback before it is destroyed.
            ref.post(self->context_, [id](WhepRoom &room) { room.dropViewer(id, "no answer"); });
            return done({ false, {}, {}, 503, "unavailable", sdpOrError });
        }
        self->log_.info("viewer %s answered (%zu viewer(s))", id.c_str(), self->viewers_.size());
        done({ true, id, sdpOrError, 201, {}, {} });
    };
    cb.connected = [ref] {
        if (WhepRoom *self = ref.lock())
            self->requestKeyframe();
    };
    cb.ended = [ref, id](const std::string &why) {
        if (WhepRoom *self = ref.lock())
            ref.post(self->context_, [id, why](WhepRoom &room) { room.dropViewer(id, why); });
    };
    auto viewer = std::make_unique<WhepViewer>(context_,
        WhepViewer::Settings { id, settings_.room, settings_.iceAddresses }, std::move(cb));
    WhepViewer *raw = viewer.get();
    viewers_.emplace(id, std::move(viewer));
    log_.info("viewer %s arrives (%zu viewer(s))", id.c_str(), viewers_.size());
    if (!raw->start(
            GST_BIN(bin_.get()), videoTee_.get(), audioTee_.get(), *offer, offerSdp, error)) {
        dropViewer(id, error);
        return done({ false, {}, {}, 400, "bad_sdp", error });
    }
}

bool WhepRoom::removeViewer(const std::string &sessionId)
{
    if (!viewers_.count(sessionId))
        return false;
    dropViewer(sessionId, "the viewer left (DELETE)");
    return true;
}

void WhepRoom::dropViewer(const std::string &id, const std::string &why)
{
    auto it = viewers_.find(id);
    if (it == viewers_.end())
        return;
    std::unique_ptr<WhepViewer> viewer = std::move(it->second);
    viewers_.erase(it);
    viewer->detach();
    releaseLater(context_, std::move(viewer));
    log_.info("viewer %s gone: %s (%zu viewer(s))", id.c_str(), why.c_str(), viewers_.size());
    if (viewers_.empty())
        stopEncoder("the last viewer left");
}

void WhepRoom::requestKeyframe()
{
    if (!encoder_)
        return;
    ++keyframeRequests_;
    if (keyframeTimer_)
        return; // the next shared keyframe answers this request too
    const auto now = std::chrono::steady_clock::now();
    const auto due = lastKeyframe_ + kMinKeyframeInterval;
    if (lastKeyframe_ == std::chrono::steady_clock::time_point {} || now >= due)
        return forceKeyframe();
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(due - now);
    keyframeTimer_ = addTimeout(context_, wait, [ref = self_.ref()] {
        if (WhepRoom *self = ref.lock()) {
            g_source_unref(self->keyframeTimer_.release()); // G_SOURCE_REMOVE ends it
            self->forceKeyframe();
        }
        return false;
    });
}

void WhepRoom::forceKeyframe()
{
    if (!encoder_)
        return;
    lastKeyframe_ = std::chrono::steady_clock::now();
    log_.debug("keyframe forced for %llu request(s)", keyframeRequests_);
    keyframeRequests_ = 0;
    // Straight to the encoder's src pad: past the payloader's probe that intercepts requests.
    auto src = adopt(gst_element_get_static_pad(encoder_.get(), "src"));
    gst_pad_send_event(
        src.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

bool WhepRoom::startEncoder(std::string &error)
{
    RoomMixer *mixer = host_.acquireComposite ? host_.acquireComposite(error) : nullptr;
    if (!mixer)
        return false;
    auto bin = refSink(gst_bin_new(("whep-" + settings_.room).c_str()));
    GstBin *b = GST_BIN(bin.get());
    GstElement *vq = add(b, "queue", "vqueue", error);
    GstElement *enc = add(b, "x264enc", "venc", error);
    GstElement *vcaps = add(b, "capsfilter", "vcaps", error);
    GstElement *vpay = add(b, "rtph264pay", "vpay", error);
    GstElement *vtee = add(b, "tee", "vtee", error);
    GstElement *aq = add(b, "queue", "aqueue", error);
    GstElement *aconv = add(b, "audioconvert", "aconv", error);
    GstElement *ares = add(b, "audioresample", "ares", error);
    GstElement *aenc = add(b, "opusenc", "aenc", error);
    GstElement *apay = add(b, "rtpopuspay", "apay", error);
    GstElement *atee = add(b, "tee", "atee", error);
    if (!vq || !enc || !vcaps || !vpay || !vtee || !aq || !aconv || !ares || !aenc || !apay
        || !atee) {
        host_.releaseComposite();
        return false;
    }
    for (GstElement *q : { vq, aq }) {
        g_object_set(q, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
            static_cast<guint64>(200 * GST_MSECOND), nullptr);
        gst_util_set_object_arg(G_OBJECT(q), "leaky", "downstream");
    }
    // Latency first: no B-frames, no lookahead, one slice per frame thread.
    gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
    gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
    g_object_set(enc, "bitrate", static_cast<guint>(settings_.videoBitrateKbps), "key-int-max",
        static_cast<guint>(settings_.fps * 2), "threads", 2u, nullptr);

    auto caps = adopt(gst_caps_from_string("video/x-h264,profile=constrained-baseline"));
    g_object_set(vcaps, "caps", caps.get(), nullptr);
    // SPS/PPS with every keyframe: a viewer that joins late decodes from its first keyframe.
    g_object_set(vpay, "config-interval", -1, "pt", 96u, "mtu", 1200u, nullptr);
    gst_util_set_object_arg(G_OBJECT(vpay), "aggregate-mode", "zero-latency");
    g_object_set(apay, "pt", 111u, "mtu", 1200u, nullptr);
    g_object_set(aenc, "bitrate", 64000, nullptr);
    for (GstElement *t : { vtee, atee })
        g_object_set(t, "allow-not-linked", TRUE, nullptr);
    if (!gst_element_link_many(vq, enc, vcaps, vpay, vtee, nullptr)
        || !gst_element_link_many(aq, aconv, ares, aenc, apay, atee, nullptr)
        || !ghost(b, vq, "video") || !ghost(b, aq, "audio")) {
        error = "cannot link the WHEP encoder";
        host_.releaseComposite();
        return false;
    }
    if (!mixer->addOutput(bin.get(), error)) {
        host_.releaseComposite();
        return false;
    }
    auto paySrc = adopt(gst_element_get_static_pad(vpay, "src"));
    gst_pad_add_probe(paySrc.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, interceptKeyframeRequest,
        new KeyframeProbe { self_.ref(), context_ },
        [](gpointer p) { delete static_cast<KeyframeProbe *>(p); });
    mixer_ = mixer;
    bin_ = std::move(bin);
    encoder_ = ref(enc);
    videoTee_ = ref(vtee);
    audioTee_ = ref(atee);
    log_.info("encoder started (first viewer): H.264 constrained baseline %d kbit/s + Opus",
        settings_.videoBitrateKbps);
    return true;
}

void WhepRoom::stopEncoder(const char *why)
{
    if (!bin_)
        return;
    for (auto &[id, viewer] : viewers_)
        viewer->detach();
    if (mixer_)
        mixer_->removeOutput(bin_.get());
    mixer_ = nullptr;
    bin_.reset();
    encoder_.reset();
    keyframeTimer_.reset();
    lastKeyframe_ = {};
    keyframeRequests_ = 0;
    videoTee_.reset();
    audioTee_.reset();
    log_.info("encoder stopped: %s", why);
    if (host_.releaseComposite)
        host_.releaseComposite();
}

void WhepRoom::onBinError(const std::string &message)
{
    log_.error("live view failed: %s", message.c_str());
    stop();
}

void WhepRoom::stop()
{
    if (viewers_.empty() && !bin_)
        return;
    auto viewers = std::move(viewers_);
    viewers_.clear();
    for (auto &[id, viewer] : viewers)
        viewer->detach();
    stopEncoder("the live view stopped");
}

} // namespace rc::gateway
