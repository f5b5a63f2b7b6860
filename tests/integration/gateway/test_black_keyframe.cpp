// The black keyframes of `gap-video: black` (BlackKeyframes), with the real encoders and
// decoders: read from a stream's caps, encoded in its codec, size, profile and framing, and
// decoded as the stream's own caps say (another size and SPS in the H.264 codec_data, as when a
// participant's stream goes black mid-file): every frame is a keyframe, black, of the stream's
// size.
#include "gateway/media/video_gap_keyframe.h"
#include "test_support.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

using namespace rc;
using rc::gateway::BlackKeyframes;

namespace {

void requirePlugins()
{
    rc::test::requireElementsOrSkip({ "videotestsrc", "vp8enc", "vp8dec", "vp9enc", "vp9dec",
        "x264enc", "h264parse", "avdec_h264", "videoconvert", "appsink", "appsrc" });
}

GPtr<GstCaps> caps(const char *text)
{
    requirePlugins();
    return adopt(gst_caps_from_string(text));
}

// The caps of a real H.264 stream (a 320x240 test picture through x264enc and h264parse, as a
// participant's stream comes out of the chain's h264parse), with its codec_data.
GPtr<GstCaps> h264StreamCaps(const char *profile, const char *format)
{
    requirePlugins();
    const std::string desc = std::string("videotestsrc pattern=smpte num-buffers=1 ! "
                                         "video/x-raw,width=320,height=240 ! x264enc ! "
                                         "video/x-h264,profile=")
        + profile + " ! h264parse ! video/x-h264,alignment=au,stream-format=" + format
        + " ! appsink name=out sync=false";
    GError *err = nullptr;
    GPtr<GstElement> pipeline = refSink(gst_parse_launch(desc.c_str(), &err));
    REQUIRE(err == nullptr);
    GPtr<GstElement> sink = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    GPtr<GstSample> sample
        = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 10 * GST_SECOND));
    REQUIRE(sample);
    GPtr<GstCaps> out = adopt(gst_caps_ref(gst_sample_get_caps(sample.get())));
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return out;
}

// NAL unit types of an H.264 access unit in avc (4-byte lengths) or byte-stream framing.
std::vector<int> nalTypes(GstBuffer *buffer, bool avc)
{
    GstMapInfo map;
    REQUIRE(gst_buffer_map(buffer, &map, GST_MAP_READ));
    std::vector<int> types;
    const guint8 *d = map.data;
    const size_t n = map.size;
    if (avc) {
        size_t at = 0;
        while (at + 4 < n) {
            const size_t len = (size_t(d[at]) << 24) | (size_t(d[at + 1]) << 16)
                | (size_t(d[at + 2]) << 8) | size_t(d[at + 3]);
            REQUIRE(len > 0);
            REQUIRE(at + 4 + len <= n);
            types.push_back(d[at + 4] & 0x1f);
            at += 4 + len;
        }
        CHECK(at == n);
    } else {
        for (size_t i = 0; i + 3 < n; ++i)
            if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
                types.push_back(d[i + 3] & 0x1f);
                i += 2;
            }
    }
    gst_buffer_unmap(buffer, &map);
    return types;
}

std::vector<guint8> bytes(GstBuffer *buffer)
{
    GstMapInfo map;
    REQUIRE(gst_buffer_map(buffer, &map, GST_MAP_READ));
    std::vector<guint8> out(map.data, map.data + map.size);
    gst_buffer_unmap(buffer, &map);
    return out;
}

struct Decoded
{
    int width = 0, height = 0;
    double meanLuma = 255;
};

// Decodes frames pushed with streamCaps (what the muxer and the player know of the stream).
std::vector<Decoded> decode(
    const GstCaps *streamCaps, const char *decoder, const std::vector<GPtr<GstBuffer>> &frames)
{
    const std::string desc = std::string("appsrc name=in format=time ! ") + decoder
        + " ! videoconvert ! video/x-raw,format=I420 ! appsink name=out sync=false";
    GError *err = nullptr;
    GPtr<GstElement> pipeline = refSink(gst_parse_launch(desc.c_str(), &err));
    REQUIRE(err == nullptr);
    GPtr<GstElement> src = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "in"));
    GPtr<GstElement> sink = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
    gst_app_src_set_caps(GST_APP_SRC(src.get()), streamCaps);
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    GstClockTime pts = 0;
    for (const auto &f : frames) {
        GstBuffer *b = gst_buffer_copy(f.get());
        GST_BUFFER_PTS(b) = pts;
        GST_BUFFER_DURATION(b) = GST_SECOND;
        pts += GST_SECOND;
        REQUIRE(gst_app_src_push_buffer(GST_APP_SRC(src.get()), b) == GST_FLOW_OK);
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
    std::vector<Decoded> out;
    while (GPtr<GstSample> sample
        = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 10 * GST_SECOND))) {
        GstVideoInfo info;
        REQUIRE(gst_video_info_from_caps(&info, gst_sample_get_caps(sample.get())));
        GstVideoFrame frame;
        REQUIRE(
            gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample.get()), GST_MAP_READ));
        const guint8 *y = static_cast<const guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
        const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
        double sum = 0;
        for (int row = 0; row < info.height; ++row)
            for (int col = 0; col < info.width; ++col)
                sum += y[row * stride + col];
        gst_video_frame_unmap(&frame);
        out.push_back({ info.width, info.height, sum / (info.width * info.height) });
    }
    GPtr<GstBus> bus = adopt(gst_element_get_bus(pipeline.get()));
    GPtr<GstMessage> error
        = adopt(gst_bus_pop_filtered(bus.get(), static_cast<GstMessageType>(GST_MESSAGE_ERROR)));
    CHECK_FALSE(error);
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return out;
}

void requireBlack(const std::vector<Decoded> &decoded, size_t count, int width, int height)
{
    REQUIRE(decoded.size() == count);
    for (const auto &d : decoded) {
        CHECK(d.width == width);
        CHECK(d.height == height);
        // Black is Y 16 in limited range; the test picture the stream caps came from is not.
        CHECK(d.meanLuma < 20);
    }
}

std::vector<GPtr<GstBuffer>> encode(const GstCaps *streamCaps, BlackKeyframes::Spec &spec)
{
    std::string error;
    REQUIRE(BlackKeyframes::describe(streamCaps, spec, error));
    auto frames = BlackKeyframes::encode(spec, error);
    INFO(error);
    REQUIRE_FALSE(frames.empty());
    for (const auto &f : frames) {
        CHECK_FALSE(GST_BUFFER_FLAG_IS_SET(f.get(), GST_BUFFER_FLAG_DELTA_UNIT));
        CHECK_FALSE(GST_BUFFER_PTS_IS_VALID(f.get()));
        CHECK(gst_buffer_get_size(f.get()) > 0);
    }
    return frames;
}

} // namespace

TEST_CASE("VP8: one black keyframe of the stream's size", "[black-keyframe]")
{
    // As rtpvp8depay gives them: size from the last keyframe, no frame rate.
    auto stream = caps("video/x-vp8,width=640,height=360,framerate=0/1");
    BlackKeyframes::Spec spec;
    auto frames = encode(stream.get(), spec);
    CHECK(BlackKeyframes::name(spec) == "VP8 640x360");
    REQUIRE(frames.size() == 1);
    requireBlack(decode(stream.get(), "vp8dec", frames), 1, 640, 360);
}

TEST_CASE("VP9: one black keyframe of the stream's size", "[black-keyframe]")
{
    auto stream = caps("video/x-vp9,width=320,height=180,framerate=0/1");
    BlackKeyframes::Spec spec;
    auto frames = encode(stream.get(), spec);
    REQUIRE(frames.size() == 1);
    requireBlack(decode(stream.get(), "vp9dec", frames), 1, 320, 180);
}

TEST_CASE("H.264 avc: two IDR pictures with SPS and PPS in-band, decodable under the "
          "stream's codec_data",
    "[black-keyframe]")
{
    GPtr<GstCaps> stream = h264StreamCaps("constrained-baseline", "avc");
    // The stream says 320x240 in its caps and codec_data; the black is encoded at a size given
    // here, to show that the decoder follows the in-band SPS, not the codec_data.
    GPtr<GstCaps> wanted = adopt(gst_caps_copy(stream.get()));
    gst_caps_set_simple(wanted.get(), "width", G_TYPE_INT, 640, "height", G_TYPE_INT, 360, nullptr);
    BlackKeyframes::Spec spec;
    auto frames = encode(wanted.get(), spec);
    CHECK(spec.profile == "constrained-baseline");
    CHECK(spec.streamFormat == "avc");
    CHECK(BlackKeyframes::name(spec) == "H264 640x360 profile constrained-baseline avc");
    REQUIRE(frames.size() == 2);
    for (const auto &f : frames) {
        const auto types = nalTypes(f.get(), true);
        const std::set<int> seen(types.begin(), types.end());
        CHECK(seen.count(7) == 1); // SPS
        CHECK(seen.count(8) == 1); // PPS
        CHECK(seen.count(5) == 1); // IDR slice
        CHECK(seen.count(1) == 0); // no non-IDR slice
    }
    // Two different IDR pictures (idr_pic_id alternates), so back-to-back ones are legal.
    CHECK(bytes(frames[0].get()) != bytes(frames[1].get()));
    requireBlack(decode(stream.get(), "avdec_h264", frames), 2, 640, 360);
}

TEST_CASE("H.264 byte-stream, high profile", "[black-keyframe]")
{
    GPtr<GstCaps> stream = h264StreamCaps("high", "byte-stream");
    BlackKeyframes::Spec spec;
    auto frames = encode(stream.get(), spec);
    CHECK(spec.profile == "high");
    CHECK(spec.streamFormat == "byte-stream");
    REQUIRE(frames.size() == 2);
    const auto types = nalTypes(frames[0].get(), false);
    CHECK(std::set<int>(types.begin(), types.end()).count(7) == 1);
    requireBlack(decode(stream.get(), "h264parse ! avdec_h264", frames), 2, 320, 240);
}

TEST_CASE("caps without a usable size or codec give no spec", "[black-keyframe]")
{
    BlackKeyframes::Spec spec;
    std::string error;
    CHECK_FALSE(BlackKeyframes::describe(caps("video/x-vp8,framerate=0/1").get(), spec, error));
    CHECK(error.find("size") != std::string::npos);
    CHECK_FALSE(
        BlackKeyframes::describe(caps("video/x-av1,width=64,height=64").get(), spec, error));
    CHECK_FALSE(
        BlackKeyframes::describe(caps("video/x-vp8,width=100000,height=64").get(), spec, error));
    CHECK_FALSE(BlackKeyframes::describe(caps("audio/x-opus").get(), spec, error));
    // An odd H.264 size is rounded up to even (4:2:0).
    REQUIRE(BlackKeyframes::describe(
        caps("video/x-h264,stream-format=avc,alignment=au,width=641,height=359").get(), spec,
        error));
    CHECK(spec.width == 642);
    CHECK(spec.height == 360);
}
