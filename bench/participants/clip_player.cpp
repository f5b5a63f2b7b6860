// Real-time looping of the pre-encoded clip into the senders' tees; see clip_player.h.
#include "clip_player.h"

#include "common/base/main_context.h"
#include "testpeer/element_factory.h"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

namespace rc::bench {
namespace {

using testpeer::makeElement;

GstPadProbeReturn onUpstreamEvent(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (event && gst_video_event_is_force_key_unit(event))
        static_cast<std::atomic<bool> *>(data)->store(true);
    return GST_PAD_PROBE_OK;
}

GstElement *buildTrack(GstBin *pipeline, GstCaps *caps, const char *srcName, const char *teeName)
{
    GstElement *src = makeElement("appsrc", srcName);
    g_object_set(src, "caps", caps, "is-live", TRUE, "do-timestamp", FALSE, "max-bytes",
        static_cast<guint64>(4 * 1024 * 1024), nullptr);
    gst_util_set_object_arg(G_OBJECT(src), "format", "time");
    gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "downstream");
    GstElement *tee = makeElement("tee", teeName);
    g_object_set(tee, "allow-not-linked", TRUE, nullptr);
    gst_bin_add_many(pipeline, src, tee, nullptr);
    gst_element_link(src, tee);
    return tee;
}

} // namespace

ClipPlayer::ClipPlayer(
    GMainContext *context, GstBin *pipeline, std::shared_ptr<const EncodedClip> clip)
    : context_(context)
    , pipeline_(pipeline)
    , clip_(std::move(clip))
    , keyframeWanted_(std::make_shared<std::atomic<bool>>(false))
{
    videoTee_ = buildTrack(pipeline_, clip_->videoCaps.get(), "clip-video", "video-tee");
    audioTee_ = buildTrack(pipeline_, clip_->audioCaps.get(), "clip-audio", "audio-tee");
    video_.appsrc = gst_bin_get_by_name(pipeline_, "clip-video");
    audio_.appsrc = gst_bin_get_by_name(pipeline_, "clip-audio");
    gst_object_unref(video_.appsrc); // the pipeline keeps them alive
    gst_object_unref(audio_.appsrc);
    video_.frames = &clip_->video;
    audio_.frames = &clip_->audio;
    GPtr<GstPad> pad(gst_element_get_static_pad(video_.appsrc, "src"));
    auto *flag = new std::shared_ptr<std::atomic<bool>>(keyframeWanted_);
    gst_pad_add_probe(
        pad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
        [](GstPad *p, GstPadProbeInfo *info, gpointer data) noexcept {
            return onUpstreamEvent(
                p, info, static_cast<std::shared_ptr<std::atomic<bool>> *>(data)->get());
        },
        flag,
        [](gpointer data) noexcept {
            delete static_cast<std::shared_ptr<std::atomic<bool>> *>(data);
        });
}

ClipPlayer::~ClipPlayer()
{
    timer_.reset();
}

void ClipPlayer::start()
{
    timer_ = addTimeout(context_, std::chrono::milliseconds(5), [this] { return tick(); });
}

bool ClipPlayer::tick()
{
    GPtr<GstClock> clock(gst_element_get_clock(GST_ELEMENT(pipeline_)));
    if (!clock)
        return true; // not PLAYING yet
    GstClockTime now
        = gst_clock_get_time(clock.get()) - gst_element_get_base_time(GST_ELEMENT(pipeline_));
    feed(video_, now, true);
    feed(audio_, now, false);
    return true;
}

void ClipPlayer::feed(Track &t, GstClockTime now, bool video)
{
    if (!GST_CLOCK_TIME_IS_VALID(t.nextPts))
        t.nextPts = now;
    while (t.nextPts <= now) {
        if (video && keyframeWanted_->exchange(false)) {
            // Jump to the clip's next keyframe: decodable on its own, and
            // every delta frame after it was encoded against it.
            size_t i = t.next;
            while (!(*t.frames)[i].keyframe)
                i = (i + 1) % t.frames->size();
            if (i != t.next)
                ++forcedKeyframes_;
            t.next = i;
        }
        const EncodedClip::Frame &f = (*t.frames)[t.next];
        GstBuffer *b = gst_buffer_copy(f.buffer.get()); // shares the encoded memory
        GST_BUFFER_PTS(b) = t.nextPts;
        GST_BUFFER_DTS(b) = t.nextPts;
        GST_BUFFER_DURATION(b) = f.duration;
        gst_app_src_push_buffer(GST_APP_SRC(t.appsrc), b);
        t.nextPts += f.duration;
        t.next = (t.next + 1) % t.frames->size();
    }
}

} // namespace rc::bench
