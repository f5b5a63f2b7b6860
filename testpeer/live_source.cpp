// Live test-pattern and tone encoding into two tees; see live_source.h.
#include "testpeer/live_source.h"

#include "common/base/exit_codes.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "testpeer/element_factory.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace rc::testpeer {
namespace {

struct Colour
{
    std::string_view name;
    guint argb;
};
// Solid colours let a test tell participants apart by the pixels it receives.
constexpr std::array<Colour, 11> kColours { {
    { "red", 0xffff0000 },
    { "green", 0xff00ff00 },
    { "blue", 0xff0000ff },
    { "yellow", 0xffffff00 },
    { "cyan", 0xff00ffff },
    { "magenta", 0xffff00ff },
    { "white", 0xffffffff },
    { "black", 0xff000000 },
    { "grey", 0xff808080 },
    { "orange", 0xffff8000 },
    { "purple", 0xff800080 },
} };

void setPattern(GstElement *src, const std::string &pattern)
{
    for (const auto &c : kColours) {
        if (c.name == pattern) {
            gst_util_set_object_arg(G_OBJECT(src), "pattern", "solid-color");
            g_object_set(src, "foreground-color", c.argb, nullptr);
            return;
        }
    }
    GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(src), "pattern");
    GEnumClass *enums = G_PARAM_SPEC_ENUM(spec)->enum_class;
    if (!g_enum_get_value_by_nick(enums, pattern.c_str())) {
        std::string known;
        for (const auto &c : kColours)
            known += std::string(c.name) + " ";
        for (guint i = 0; i < enums->n_values; ++i)
            known += std::string(enums->values[i].value_nick) + " ";
        throw StartupError(
            exitcode::usage, "--pattern: unknown pattern '" + pattern + "'; known: " + known);
    }
    gst_util_set_object_arg(G_OBJECT(src), "pattern", pattern.c_str());
}

std::string rawCaps(int width, int height, int fps)
{
    return "video/x-raw,width=" + std::to_string(width) + ",height=" + std::to_string(height)
        + ",framerate=" + std::to_string(fps) + "/1";
}

GstElement *capsFilter(const std::string &caps)
{
    GstElement *f = makeElement("capsfilter");
    GstCaps *c = gst_caps_from_string(caps.c_str());
    g_object_set(f, "caps", c, nullptr);
    gst_caps_unref(c);
    return f;
}

GstElement *makeTee(const char *name)
{
    GstElement *tee = makeElement("tee", name);
    // Peers come and go; with no branch linked the encoders keep running.
    g_object_set(tee, "allow-not-linked", TRUE, nullptr);
    return tee;
}

void addChain(GstBin *bin, std::initializer_list<GstElement *> chain)
{
    for (GstElement *e : chain)
        gst_bin_add(bin, e);
    GstElement *prev = nullptr;
    for (GstElement *e : chain) {
        if (prev && !gst_element_link(prev, e))
            throw StartupError(exitcode::software,
                std::string("cannot link ") + GST_ELEMENT_NAME(prev) + " to "
                    + GST_ELEMENT_NAME(e));
        prev = e;
    }
}

} // namespace

LiveSource::LiveSource(GstBin *pipeline, const LiveSourceOptions &options)
    : pipeline_(pipeline)
    , codec_(options.codec)
    , options_(options)
{
    buildVideo(options);
    buildAudio(options);
}

void LiveSource::buildVideo(const LiveSourceOptions &o)
{
    GstElement *src = makeElement("videotestsrc", "video-source");
    g_object_set(src, "is-live", TRUE, nullptr);
    try {
        setPattern(src, o.pattern);
    } catch (...) {
        gst_object_unref(gst_object_ref_sink(src));
        throw;
    }
    GstElement *raw = capsFilter(rawCaps(o.width, o.height, o.fps));
    sizeFilter_ = raw;
    GstElement *convert = makeElement("videoconvert");
    GstElement *i420 = capsFilter("video/x-raw,format=I420");
    videoTee_ = makeTee("video-tee");
    if (codec_ == VideoCodec::vp8) {
        GstElement *enc = makeElement("vp8enc", "video-encoder");
        // deadline=1 is libvpx's realtime mode; error resilience lets a
        // receiver recover from a lost packet without a new keyframe.
        g_object_set(enc, "deadline", static_cast<gint64>(1), "keyframe-max-dist", 30,
            "target-bitrate", o.bitrateKbps * 1000, "cpu-used", 4, nullptr);
        gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
        gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
        addChain(pipeline_, { src, raw, convert, i420, enc, videoTee_ });
    } else if (codec_ == VideoCodec::vp9) {
        GstElement *enc = makeElement("vp9enc", "video-encoder");
        // Realtime as for VP8; cpu-used 8 is libvpx's fastest VP9 speed (a 720p call on a
        // loaded machine), and no lag so that a frame leaves when it is captured.
        g_object_set(enc, "deadline", static_cast<gint64>(1), "keyframe-max-dist", 30,
            "target-bitrate", o.bitrateKbps * 1000, "cpu-used", 8, "lag-in-frames", 0, nullptr);
        gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
        gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
        addChain(pipeline_, { src, raw, convert, i420, enc, videoTee_ });
    } else {
        GstElement *enc = makeElement("x264enc", "video-encoder");
        gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
        gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
        g_object_set(enc, "key-int-max", 60, "bitrate", static_cast<guint>(o.bitrateKbps), nullptr);
        // Chromium decodes constrained baseline (profile-level-id 42e01f);
        // level 3.1 covers 720p30.
        bool small = std::max(o.width * o.height, o.resizeWidth * o.resizeHeight) <= 1280 * 720;
        GstElement *profile
            = capsFilter(std::string("video/x-h264,profile=constrained-baseline,level=(string)")
                + (small ? "3.1" : "4"));
        addChain(pipeline_, { src, raw, convert, i420, enc, profile, videoTee_ });
    }
}

void LiveSource::startResizing(GMainContext *ctx)
{
    if (options_.resizeEverySeconds <= 0)
        return;
    resizeTimer_ = addTimeout(ctx, std::chrono::seconds(options_.resizeEverySeconds), [this] {
        resized_ = !resized_;
        const int w = resized_ ? options_.resizeWidth : options_.width;
        const int h = resized_ ? options_.resizeHeight : options_.height;
        // videotestsrc renegotiates on the reconfigure event the new caps send; the
        // encoder restarts at the new size with a keyframe (and, for H264, new SPS/PPS).
        GstCaps *caps = gst_caps_from_string(rawCaps(w, h, options_.fps).c_str());
        g_object_set(sizeFilter_, "caps", caps, nullptr);
        gst_caps_unref(caps);
        RC_LOG_INFO("video size now %dx%d", w, h);
        return true;
    });
}

void LiveSource::buildAudio(const LiveSourceOptions &o)
{
    GstElement *src = makeElement("audiotestsrc", "audio-source");
    g_object_set(src, "is-live", TRUE, "freq", o.audioFrequency, "volume", 0.3, nullptr);
    gst_util_set_object_arg(G_OBJECT(src), "wave", "sine");
    GstElement *convert = makeElement("audioconvert");
    GstElement *resample = makeElement("audioresample");
    GstElement *raw
        = capsFilter("audio/x-raw,rate=48000,channels=" + std::to_string(o.audioChannels));
    GstElement *enc = makeElement("opusenc", "audio-encoder");
    g_object_set(enc, "bitrate", 64000, nullptr);
    audioTee_ = makeTee("audio-tee");
    addChain(pipeline_, { src, convert, resample, raw, enc, audioTee_ });
}

} // namespace rc::testpeer
