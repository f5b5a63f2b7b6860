// One participant's way into the room composite: decode branches and the lanes into the mixer.
#include "gateway/composite/mix_feed.h"

#include "common/base/log.h"
#include "common/gst/gst_helpers.h"
#include "gateway/composite/room_mixer.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include <atomic>

namespace rc::gateway {
namespace {

// Audio that arrives this much later than where the previous buffer ended
// (a gap: DTX, loss, a stall) or this much earlier (a burst) starts a new
// stretch at its arrival time; in between, buffers are laid end to end, so
// network jitter does not become clicks in the mix.
constexpr GstClockTime kAudioLateSlack = 60 * GST_MSECOND;
constexpr GstClockTime kAudioEarlySlack = 300 * GST_MSECOND;

GstElement *make(const char *factory, std::string &error)
{
    return makeElement(factory, nullptr, error);
}

struct SinkJob
{
    std::shared_ptr<MixLane> lane;
};

GstFlowReturn newSample(GstAppSink *sink, gpointer data) noexcept
{
    GPtr<GstSample> sample = adopt(gst_app_sink_pull_sample(sink));
    if (sample)
        static_cast<SinkJob *>(data)->lane->push(sample.get());
    // Never an error: the participant's own recordings share this pipeline.
    return GST_FLOW_OK;
}

void sinkEos(GstAppSink *, gpointer data) noexcept
{
    static_cast<SinkJob *>(data)->lane->end();
}

void deleteSinkJob(gpointer data) noexcept
{
    delete static_cast<SinkJob *>(data);
}

// Each decoded frame, before it enters the branch's converter and scaler: the tile's size goes
// in place first.
GstPadProbeReturn scaleProbe(GstPad *, GstPadProbeInfo *, gpointer data) noexcept
{
    static_cast<SinkJob *>(data)->lane->applyScale();
    return GST_PAD_PROBE_OK;
}

// The decoder's output caps, before the branch scales: the picture's own size.
GstPadProbeReturn decodedCapsProbe(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (event && GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
        GstCaps *caps = nullptr;
        gst_event_parse_caps(event, &caps);
        static_cast<SinkJob *>(data)->lane->decodedCaps(caps);
    }
    return GST_PAD_PROBE_OK;
}

} // namespace

void MixLane::push(GstSample *sample) noexcept
{
    GstBuffer *buffer = gst_sample_get_buffer(sample);
    GstCaps *caps = gst_sample_get_caps(sample);
    if (!buffer || !caps)
        return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!appsrc_ || ended_)
        return;
    if (!caps_ || !gst_caps_is_equal(caps, caps_.get())) {
        caps_ = GPtr<GstCaps>(gst_caps_ref(caps));
        gst_app_src_set_caps(GST_APP_SRC(appsrc_.get()), caps);
        // Video: these are the scaled caps; the tile's size comes from decodedCaps.
        if (kind == MediaKind::audio) {
            GstAudioInfo info;
            if (gst_audio_info_from_caps(&info, caps)) {
                rate_ = GST_AUDIO_INFO_RATE(&info);
                bytesPerFrame_ = GST_AUDIO_INFO_BPF(&info);
            }
            next_ = GST_CLOCK_TIME_NONE;
        }
    }
    // Timestamps of the participant's pipeline mean nothing on ours: stamp
    // with the arrival time on the mixer's clock.
    GPtr<GstClock> clock = adopt(gst_element_get_clock(appsrc_.get()));
    if (!clock)
        return; // the mixer is not playing
    const GstClockTime base = gst_element_get_base_time(appsrc_.get());
    const GstClockTime t = gst_clock_get_time(clock.get());
    if (t < base)
        return;
    const GstClockTime now = t - base;
    // A shallow copy (adopted): the memory is shared, only the metadata is ours to change.
    GPtr<GstBuffer> owned = adopt(gst_buffer_copy(buffer));
    GstBuffer *copy = owned.get();
    GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
    if (kind == MediaKind::video) {
        GST_BUFFER_PTS(copy) = now;
        GST_BUFFER_DURATION(copy) = GST_CLOCK_TIME_NONE;
    } else {
        if (rate_ <= 0 || bytesPerFrame_ <= 0)
            return;
        const guint64 frames = gst_buffer_get_size(copy) / static_cast<guint64>(bytesPerFrame_);
        const GstClockTime duration = gst_util_uint64_scale_int(frames, GST_SECOND, rate_);
        if (!GST_CLOCK_TIME_IS_VALID(next_) || next_ + kAudioLateSlack < now
            || next_ > now + kAudioEarlySlack) {
            next_ = now;
            GST_BUFFER_FLAG_SET(copy, GST_BUFFER_FLAG_DISCONT);
        }
        GST_BUFFER_PTS(copy) = next_;
        GST_BUFFER_DURATION(copy) = duration;
        next_ += duration;
    }
    // Non-blocking (the appsrc is leaky): a stalled mixer never stalls the participant.
    // push_buffer takes the reference.
    gst_app_src_push_buffer(GST_APP_SRC(appsrc_.get()), owned.release());
}

void MixLane::decodedCaps(GstCaps *caps) noexcept
{
    GstVideoInfo info;
    if (!caps || !gst_video_info_from_caps(&info, caps) || info.width <= 0 || info.height <= 0)
        return;
    // The tile keeps the display aspect: apply the pixel aspect ratio.
    int width = info.width;
    if (info.par_n > 0 && info.par_d > 0 && info.par_n != info.par_d)
        width = static_cast<int>(gst_util_uint64_scale_int(info.width, info.par_n, info.par_d));
    std::lock_guard<std::mutex> lock(mutex_);
    if (width == sourceWidth_ && info.height == sourceHeight_)
        return;
    sourceWidth_ = width;
    sourceHeight_ = info.height;
    if (appsrc_ && onVideoSize_)
        onVideoSize_(sourceWidth_, sourceHeight_);
}

void MixLane::setScaleFilter(GstElement *capsfilter)
{
    std::lock_guard<std::mutex> lock(mutex_);
    scaleFilter_ = ref(capsfilter);
}

void MixLane::scaleTo(int width, int height)
{
    if (width <= 0 || height <= 0)
        width = height = 0;
    std::lock_guard<std::mutex> lock(mutex_);
    scaleWidth_ = width;
    scaleHeight_ = height;
}

void MixLane::applyScale() noexcept
{
    GPtr<GstElement> filter;
    int width = 0, height = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!scaleFilter_ || scaleWidth_ < 0
            || (scaleWidth_ == appliedWidth_ && scaleHeight_ == appliedHeight_))
            return;
        width = appliedWidth_ = scaleWidth_;
        height = appliedHeight_ = scaleHeight_;
        filter = ref(scaleFilter_.get());
    }
    GPtr<GstCaps> caps
        = adopt(gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", nullptr));
    if (width > 0)
        gst_caps_set_simple(caps.get(), "width", G_TYPE_INT, width, "height", G_TYPE_INT, height,
            "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
    // Outside our mutex: the capsfilter sends a reconfigure event upstream, and the scaler
    // renegotiates when this frame reaches it.
    g_object_set(filter.get(), "caps", caps.get(), nullptr);
}

void MixLane::end() noexcept
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (ended_)
        return;
    ended_ = true;
    if (appsrc_ && onEnded_)
        onEnded_();
}

void MixLane::attach(
    GstElement *appsrc, std::function<void(int, int)> onVideoSize, std::function<void()> onEnded)
{
    std::lock_guard<std::mutex> lock(mutex_);
    appsrc_ = ref(appsrc);
    caps_.reset();
    next_ = GST_CLOCK_TIME_NONE;
    onVideoSize_ = std::move(onVideoSize);
    onEnded_ = std::move(onEnded);
    // Decoded before the mixer was there: it still needs the size.
    if (sourceWidth_ > 0 && onVideoSize_)
        onVideoSize_(sourceWidth_, sourceHeight_);
    if (ended_ && onEnded_)
        onEnded_();
}

void MixLane::detach() noexcept
{
    std::lock_guard<std::mutex> lock(mutex_);
    appsrc_.reset();
    caps_.reset();
    onVideoSize_ = nullptr;
    onEnded_ = nullptr;
}

MixFeed::MixFeed(std::string participant, WeakSelf<RoomMixer>::Ref mixer)
    : participant_(std::move(participant))
    , mixer_(std::move(mixer))
{ }

RequiredElements MixFeed::requiredElements()
{
    const char *package = "gst-plugins-base/good (room composite)";
    return { { "videoscale", package }, { "videoconvert", package }, { "audioconvert", package },
        { "audioresample", package }, { "capsfilter", package }, { "appsink", package },
        { decoderFor(MediaKind::audio, "OPUS"), package } };
}

std::string MixFeed::decoderFor(MediaKind kind, const std::string &codec)
{
    if (kind == MediaKind::video) {
        if (codec == "VP8")
            return "vp8dec";
        if (codec == "VP9")
            return "vp9dec";
        if (codec == "H264")
            return "avdec_h264";
        return {};
    }
    if (codec == "OPUS")
        return "opusdec";
    return {};
}

GPtr<GstElement> MixFeed::createDecodeBranch(
    MediaKind kind, const std::string &codec, std::string &error)
{
    const std::string decoder = decoderFor(kind, codec);
    if (decoder.empty()) {
        error
            = "the room composite cannot decode " + std::string(mediaKindName(kind)) + " " + codec;
        return nullptr;
    }
    static std::atomic<unsigned> serial { 0 };
    const std::string name
        = std::string("mixfeed-") + mediaKindName(kind) + "-" + std::to_string(serial.fetch_add(1));
    GPtr<GstElement> bin = refSink(gst_bin_new(name.c_str()));

    // Created floating; the bin sinks each one as it is added. Until then a
    // failure path sinks and drops what was made.
    std::vector<GstElement *> chain;
    auto dropAll = [&chain] {
        for (GstElement *e : chain)
            gst_object_unref(gst_object_ref_sink(e));
    };
    std::vector<const char *> factories;
    if (kind == MediaKind::video)
        // The scaler sits right before the capsfilter that scaleTo() changes: on a layout
        // change the element that renegotiates first must be one that can give any size
        // (videoconvert there failed the participant's pipeline with not-negotiated when it
        // reconfigured before the scaler had, 2026-12-05). Decoders give I420: no conversion.
        factories = { decoder.c_str(), "videoconvert", "videoscale", "capsfilter", "appsink" };
    else
        factories = { decoder.c_str(), "audioconvert", "audioresample", "capsfilter", "appsink" };
    for (const char *f : factories) {
        GstElement *e = make(f, error);
        if (!e) {
            dropAll();
            return nullptr;
        }
        chain.push_back(e);
    }
    GstElement *dec = chain.front();
    GstElement *filter = chain[chain.size() - 2];
    GstElement *sink = chain.back();
    // A corrupt frame (packet loss before the next keyframe) must not post an
    // ERROR: that would fail the participant's whole pipeline, recordings included.
    setPropertyIfExists(dec, "max-errors", -1);
    GPtr<GstCaps> caps = adopt(gst_caps_from_string(kind == MediaKind::video
            ? "video/x-raw,format=I420"
            : "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2"));
    g_object_set(filter, "caps", caps.get(), nullptr);
    // Never waits: not for the clock (the mixer re-stamps), not for preroll
    // (it joins a playing live pipeline), not for a slow mixer (drops).
    g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "max-buffers",
        2u, "drop", TRUE, nullptr);

    const std::vector<GstElement *> elements = chain;
    for (GstElement *e : elements)
        gst_bin_add(GST_BIN(bin.get()), e);
    chain.clear(); // owned by the bin now
    for (size_t i = 1; i < elements.size(); ++i) {
        if (!gst_element_link(elements[i - 1], elements[i])) {
            error = std::string("cannot link ") + GST_OBJECT_NAME(elements[i - 1]) + " to "
                + GST_OBJECT_NAME(elements[i]);
            return nullptr;
        }
    }
    GPtr<GstPad> target = adopt(gst_element_get_static_pad(dec, "sink"));
    GstPad *ghost = gst_ghost_pad_new("sink", target.get());
    if (!ghost || !gst_element_add_pad(bin.get(), ghost)) {
        error = "cannot expose the decode branch's sink pad";
        return nullptr;
    }
    // A frame the branch fails (a renegotiation, a decoder's error flow) is the composite's
    // loss alone: passed upstream, it would stop the participant's stream, recordings included.
    // The branch renegotiates at its next frame.
    swallowFlowErrors(ghost);

    auto lane = std::make_shared<MixLane>(kind);
    if (kind == MediaKind::video) {
        GstElement *scale = elements[2];
        // The layout's picture is aspect-kept already; a border of a rounding pixel is not wanted.
        g_object_set(scale, "add-borders", FALSE, nullptr);
        lane->setScaleFilter(filter);
        GPtr<GstPad> decoded = adopt(gst_element_get_static_pad(elements[1], "sink"));
        gst_pad_add_probe(decoded.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, decodedCapsProbe,
            new SinkJob { lane }, deleteSinkJob);
        gst_pad_add_probe(decoded.get(), GST_PAD_PROBE_TYPE_BUFFER, scaleProbe,
            new SinkJob { lane }, deleteSinkJob);
    }
    GstAppSinkCallbacks callbacks {};
    callbacks.eos = sinkEos;
    callbacks.new_sample = newSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, new SinkJob { lane }, deleteSinkJob);

    if (RoomMixer *m = mixer_.lock())
        m->attachLane(participant_, lane);
    else
        rc::log::Logger("gateway")
            .child("mix feed " + participant_)
            .debug("the mixer is gone; decoding for nothing");
    return bin;
}

} // namespace rc::gateway
