// Encoding black keyframes that match a stream's caps; see video_gap_keyframe.h.
#include "gateway/media/video_gap_keyframe.h"

#include "common/gst/gst_helpers.h"

#include <gst/app/gstappsink.h>

#include <array>
#include <string_view>

namespace rc::gateway {
namespace {

// Larger than any WebRTC sender's picture; caps asking for more are not trusted.
constexpr int kMaxSide = 8192;

// The H.264 profiles x264enc can be asked for through its src caps (4:2:0, 8 bit).
constexpr std::array<std::string_view, 4> kX264Profiles { "constrained-baseline", "baseline",
    "main", "high" };

std::string stringField(const GstStructure *s, const char *field)
{
    const char *v = gst_structure_get_string(s, field);
    return v ? v : "";
}

// All elements are created floating and sunk into pipeline by gst_bin_add.
GstElement *add(GstElement *pipeline, const char *factory, std::string &error)
{
    GstElement *e = rc::makeElement(factory, nullptr, error);
    if (e && !gst_bin_add(GST_BIN(pipeline), e)) {
        gst_object_unref(gst_object_ref_sink(e));
        error = std::string("cannot add ") + factory;
        return nullptr;
    }
    return e;
}

GstElement *capsFilter(GstElement *pipeline, GstCaps *caps, std::string &error)
{
    GPtr<GstCaps> owned = adopt(caps);
    GstElement *filter = add(pipeline, "capsfilter", error);
    if (filter)
        g_object_set(filter, "caps", owned.get(), nullptr);
    return filter;
}

// The encoder and what follows it, up to the point where frames are in the stream's framing;
// the elements in link order.
std::vector<GstElement *> encoderChain(
    GstElement *pipeline, const BlackKeyframes::Spec &spec, std::string &error)
{
    std::vector<GstElement *> chain;
    if (spec.media == "video/x-vp8" || spec.media == "video/x-vp9") {
        const bool vp8 = spec.media == "video/x-vp8";
        GstElement *enc = add(pipeline, vp8 ? "vp8enc" : "vp9enc", error);
        if (!enc)
            return {};
        // One picture, fast: a flat black frame costs nothing to encode well.
        gst_util_set_object_arg(G_OBJECT(enc), "deadline", "1");
        g_object_set(enc, "threads", 1, "keyframe-max-dist", 1, nullptr);
        chain.push_back(enc);
        return chain;
    }
    GstElement *enc = add(pipeline, "x264enc", error);
    if (!enc)
        return {};
    gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
    gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
    g_object_set(enc, "key-int-max", 1u, "bframes", 0u, "threads", 1u, nullptr);
    chain.push_back(enc);
    // x264enc takes its profile from what downstream allows.
    GstCaps *encoded = gst_caps_new_empty_simple("video/x-h264");
    for (auto p : kX264Profiles)
        if (p == spec.profile)
            gst_caps_set_simple(encoded, "profile", G_TYPE_STRING, spec.profile.c_str(), nullptr);
    GstElement *profile = capsFilter(pipeline, encoded, error);
    GstElement *parse = add(pipeline, "h264parse", error);
    if (!profile || !parse)
        return {};
    // SPS and PPS in every access unit, also in avc (where they would otherwise go to
    // codec_data only, which the muxers never see: they keep the stream's first caps).
    g_object_set(parse, "config-interval", -1, nullptr);
    GstElement *framing = capsFilter(pipeline,
        gst_caps_new_simple("video/x-h264", "stream-format", G_TYPE_STRING,
            spec.streamFormat.c_str(), "alignment", G_TYPE_STRING, "au", nullptr),
        error);
    if (!framing)
        return {};
    chain.insert(chain.end(), { profile, parse, framing });
    return chain;
}

std::string busError(GstElement *pipeline)
{
    GPtr<GstBus> bus = adopt(gst_element_get_bus(pipeline));
    GPtr<GstMessage> message
        = adopt(gst_bus_pop_filtered(bus.get(), static_cast<GstMessageType>(GST_MESSAGE_ERROR)));
    if (!message)
        return "";
    GError *raw = nullptr;
    gst_message_parse_error(message.get(), &raw, nullptr);
    GPtr<GError> err = adopt(raw);
    return err ? err->message : "unknown error";
}

} // namespace

bool BlackKeyframes::describe(const GstCaps *caps, Spec &spec, std::string &error)
{
    if (!caps || gst_caps_get_size(caps) != 1) {
        error = "no fixed video caps";
        return false;
    }
    const GstStructure *s = gst_caps_get_structure(caps, 0);
    Spec out;
    out.media = gst_structure_get_name(s);
    if (out.media != "video/x-vp8" && out.media != "video/x-vp9" && out.media != "video/x-h264") {
        error = "no black keyframe encoder for " + out.media;
        return false;
    }
    if (!gst_structure_get_int(s, "width", &out.width)
        || !gst_structure_get_int(s, "height", &out.height) || out.width <= 0 || out.height <= 0
        || out.width > kMaxSide || out.height > kMaxSide) {
        error = "no usable size in the caps of " + out.media;
        return false;
    }
    out.profile = stringField(s, "profile");
    if (out.media == "video/x-h264") {
        out.streamFormat = stringField(s, "stream-format");
        if (out.streamFormat.empty())
            out.streamFormat = "byte-stream";
        if (out.streamFormat != "avc" && out.streamFormat != "avc3"
            && out.streamFormat != "byte-stream") {
            error = "H.264 stream-format " + out.streamFormat + " is not handled";
            return false;
        }
        // 4:2:0 needs even sides; a sender's odd side is rounded up (the decoder takes the
        // black picture's own size from its SPS).
        out.width += out.width % 2;
        out.height += out.height % 2;
    }
    spec = std::move(out);
    return true;
}

std::string BlackKeyframes::name(const Spec &spec)
{
    std::string codec = spec.media == "video/x-vp8" ? "VP8"
        : spec.media == "video/x-vp9"               ? "VP9"
        : spec.media == "video/x-h264"              ? "H264"
                                                    : spec.media;
    std::string text = codec + " " + std::to_string(spec.width) + "x" + std::to_string(spec.height);
    if (!spec.profile.empty())
        text += " profile " + spec.profile;
    if (!spec.streamFormat.empty())
        text += " " + spec.streamFormat;
    return text;
}

std::vector<GPtr<GstBuffer>> BlackKeyframes::encode(const Spec &spec, std::string &error)
{
    const bool h264 = spec.media == "video/x-h264";
    const int count = h264 ? 2 : 1;
    GPtr<GstElement> pipeline = refSink(gst_pipeline_new(nullptr));
    GstElement *source = add(pipeline.get(), "videotestsrc", error);
    if (!source)
        return {};
    gst_util_set_object_arg(G_OBJECT(source), "pattern", "black");
    g_object_set(source, "num-buffers", count, nullptr);
    GstElement *raw = capsFilter(pipeline.get(),
        gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
            spec.width, "height", G_TYPE_INT, spec.height, "framerate", GST_TYPE_FRACTION, 30, 1,
            nullptr),
        error);
    if (!raw)
        return {};
    std::vector<GstElement *> chain { source, raw };
    const auto encoder = encoderChain(pipeline.get(), spec, error);
    if (encoder.empty())
        return {};
    chain.insert(chain.end(), encoder.begin(), encoder.end());
    GstElement *sink = add(pipeline.get(), "appsink", error);
    if (!sink)
        return {};
    g_object_set(sink, "sync", FALSE, "max-buffers", 0u, "emit-signals", FALSE, nullptr);
    chain.push_back(sink);
    for (size_t i = 1; i < chain.size(); ++i) {
        if (!gst_element_link(chain[i - 1], chain[i])) {
            error = std::string("cannot link ") + GST_OBJECT_NAME(chain[i - 1]) + " to "
                + GST_OBJECT_NAME(chain[i]);
            return {};
        }
    }

    std::vector<GPtr<GstBuffer>> frames;
    if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        error = busError(pipeline.get());
        if (error.empty())
            error = "the encoding pipeline does not start";
    } else {
        // Each pull waits for the next frame or EOS; the timeout only bounds a stuck encoder.
        while (GPtr<GstSample> sample
            = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND))) {
            GstBuffer *buffer = gst_sample_get_buffer(sample.get());
            if (!buffer || GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT))
                continue; // not a keyframe: of no use here
            GstBuffer *copy = gst_buffer_copy(buffer);
            GST_BUFFER_PTS(copy) = GST_CLOCK_TIME_NONE;
            GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
            GST_BUFFER_DURATION(copy) = GST_CLOCK_TIME_NONE;
            GST_BUFFER_OFFSET(copy) = GST_BUFFER_OFFSET_NONE;
            GST_BUFFER_OFFSET_END(copy) = GST_BUFFER_OFFSET_NONE;
            frames.push_back(adopt(copy));
        }
        if (!gst_app_sink_is_eos(GST_APP_SINK(sink)))
            error = busError(pipeline.get());
        if (!gst_app_sink_is_eos(GST_APP_SINK(sink)) && error.empty())
            error = "the encoder did not finish within 10 s";
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    if (!error.empty())
        return {};
    if (frames.empty())
        error = "the encoder gave no keyframe";
    return frames;
}

} // namespace rc::gateway
