// One-shot encoding of the load generator's clip; see encoded_clip.h.
#include "encoded_clip.h"

#include "common/base/exit_codes.h"
#include "common/base/startup_error.h"

#include <gst/app/gstappsink.h>

#include <string>

namespace rc::bench {
namespace {

void drain(GstElement *pipeline, const char *sinkName, std::vector<EncodedClip::Frame> &out,
    GPtr<GstCaps> &caps)
{
    GPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline), sinkName));
    for (;;) {
        GPtr<GstSample> sample(
            gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 30 * GST_SECOND));
        if (!sample)
            break; // EOS (or a stall, caught by the count check)
        if (!caps && gst_sample_get_caps(sample.get()))
            caps.reset(gst_caps_ref(gst_sample_get_caps(sample.get())));
        GstBuffer *b = gst_sample_get_buffer(sample.get());
        EncodedClip::Frame f;
        f.buffer.reset(gst_buffer_ref(b));
        f.duration = GST_BUFFER_DURATION(b);
        f.keyframe = !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
        out.push_back(std::move(f));
    }
}

} // namespace

EncodedClip encodeClip(const ClipOptions &o)
{
    int frames = o.fps * o.seconds;
    int audioPackets = o.seconds * 50; // 20 ms Opus frames
    // Only integers validated by the caller go into this description.
    std::string desc = "videotestsrc num-buffers=" + std::to_string(frames)
        + " pattern=smpte horizontal-speed=8 ! video/x-raw,width=" + std::to_string(o.width)
        + ",height=" + std::to_string(o.height) + ",framerate=" + std::to_string(o.fps)
        + "/1 ! videoconvert ! video/x-raw,format=I420 ! "
          "vp8enc deadline=1 cpu-used=4 error-resilient=default end-usage=cbr keyframe-max-dist="
        + std::to_string(o.fps) + " target-bitrate=" + std::to_string(o.bitrateKbps * 1000)
        + " ! appsink name=video sync=false "
          "audiotestsrc num-buffers="
        + std::to_string(audioPackets)
        + " samplesperbuffer=960 wave=sine freq=440 volume=0.3 ! audio/x-raw,rate=48000,channels=2 "
          "! "
          "opusenc bitrate=64000 frame-size=20 ! appsink name=audio sync=false";
    GError *raw = nullptr;
    // gst_parse_launch returns a floating reference: sink it into ours.
    GPtr<GstElement> pipeline = refSink(gst_parse_launch(desc.c_str(), &raw));
    auto error = adopt(raw);
    if (!pipeline || error)
        throw StartupError(exitcode::unavailable,
            std::string("cannot build the clip encoder: ")
                + (error ? error->message : "unknown error"));
    if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
        throw StartupError(exitcode::software, "cannot start the clip encoder");
    EncodedClip clip;
    drain(pipeline.get(), "video", clip.video, clip.videoCaps);
    drain(pipeline.get(), "audio", clip.audio, clip.audioCaps);
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    if (clip.video.size() != static_cast<size_t>(frames) || clip.audio.empty()
        || !clip.video.front().keyframe)
        throw StartupError(exitcode::software,
            "clip encoder produced " + std::to_string(clip.video.size()) + "/"
                + std::to_string(frames) + " video frames");
    for (auto &f : clip.video)
        if (!GST_CLOCK_TIME_IS_VALID(f.duration))
            f.duration = GST_SECOND / o.fps;
    for (auto &f : clip.audio)
        if (!GST_CLOCK_TIME_IS_VALID(f.duration))
            f.duration = 20 * GST_MSECOND;
    return clip;
}

} // namespace rc::bench
