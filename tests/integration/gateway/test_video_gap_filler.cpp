// The video gap filler in a real live pipeline, without WebRTC: a live VP8 stream through a tee
// into VideoGapFiller ! queue ! appsink. The stream stops for 3 s (a valve drops the raw
// pictures, so the encoder goes on with delta frames afterwards, as a paused sender's does):
// black keyframes fill the gap from where the stream stopped, one a second; the delta frames
// after the gap are dropped and a keyframe is asked for upstream, which ends the gap; and a
// keyframe request from the output's side reaches the encoder through the filler.
#include "gateway/media/video_gap_filler.h"
#include "gateway/media/video_gap_keyframe.h"
#include "test_support.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

using namespace rc;
using rc::gateway::BlackKeyframes;
using rc::gateway::VideoGapFiller;

namespace {

void requirePlugins()
{
    rc::test::requireElementsOrSkip(
        { "videotestsrc", "valve", "vp8enc", "tee", "queue", "appsink", "appsrc" });
}

struct Frame
{
    GstClockTime pts;
    bool key;
    std::vector<guint8> bytes;
};

std::vector<guint8> bytes(GstBuffer *buffer)
{
    GstMapInfo map;
    REQUIRE(gst_buffer_map(buffer, &map, GST_MAP_READ));
    std::vector<guint8> out(map.data, map.data + map.size);
    gst_buffer_unmap(buffer, &map);
    return out;
}

// Counts keyframe requests that reach the tee's sink pad from downstream.
GstPadProbeReturn countRequests(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (event && gst_video_event_is_force_key_unit(event))
        static_cast<std::atomic<int> *>(data)->fetch_add(1);
    return GST_PAD_PROBE_OK;
}

// Pulls frames from sink for about `seconds` of wall time.
void pull(GstElement *sink, double seconds, std::vector<Frame> &out)
{
    const auto until
        = std::chrono::steady_clock::now() + std::chrono::milliseconds(int(seconds * 1000));
    while (std::chrono::steady_clock::now() < until) {
        GPtr<GstSample> sample
            = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 50 * GST_MSECOND));
        if (!sample)
            continue;
        GstBuffer *b = gst_sample_get_buffer(sample.get());
        out.push_back({ GST_BUFFER_PTS(b), !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT),
            bytes(b) });
    }
}

} // namespace

TEST_CASE("a live VP8 stream that stops gets black keyframes, then resumes at a keyframe",
    "[video-gap-filler]")
{
    requirePlugins();
    GError *err = nullptr;
    // Keyframes only on request after the first: a delta after the gap must wait for one.
    GPtr<GstElement> pipeline = refSink(gst_parse_launch(
        "videotestsrc is-live=true pattern=smpte ! video/x-raw,width=320,height=240,"
        "framerate=30/1 ! valve name=valve ! vp8enc name=enc deadline=1 keyframe-max-dist=100000 "
        "! video/x-vp8,width=320,height=240 ! tee name=tee allow-not-linked=true "
        "queue name=queue ! appsink name=out sync=false max-buffers=0",
        &err));
    REQUIRE(err == nullptr);
    GstBin *bin = GST_BIN(pipeline.get());
    GPtr<GstElement> tee = adopt(gst_bin_get_by_name(bin, "tee"));
    GPtr<GstElement> queue = adopt(gst_bin_get_by_name(bin, "queue"));
    GPtr<GstElement> valve = adopt(gst_bin_get_by_name(bin, "valve"));
    GPtr<GstElement> sink = adopt(gst_bin_get_by_name(bin, "out"));
    std::string error;
    std::unique_ptr<VideoGapFiller> filler = VideoGapFiller::build(bin, error);
    REQUIRE(filler);
    REQUIRE(gst_element_link(filler->output(), queue.get()));
    REQUIRE(gst_element_link(tee.get(), filler->input()));
    std::atomic<int> requests { 0 };
    GPtr<GstPad> teeSink = adopt(gst_element_get_static_pad(tee.get(), "sink"));
    gst_pad_add_probe(
        teeSink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, countRequests, &requests, nullptr);

    REQUIRE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    std::vector<Frame> frames;
    pull(sink.get(), 2.0, frames);
    REQUIRE(frames.size() > 30);

    // A keyframe request from the output's side (a feed waiting for a keyframe) goes on
    // upstream through the filler's appsrc/appsink.
    GPtr<GstPad> queueSrc = adopt(gst_element_get_static_pad(queue.get(), "src"));
    REQUIRE(gst_pad_send_event(
        queueSrc.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0)));
    pull(sink.get(), 0.5, frames);
    CHECK(requests.load() == 1);

    // The sender goes away for 3 s.
    g_object_set(valve.get(), "drop", TRUE, nullptr);
    pull(sink.get(), 3.0, frames);
    g_object_set(valve.get(), "drop", FALSE, nullptr);
    pull(sink.get(), 2.0, frames);
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);

    // The black keyframe the filler writes: vp8enc is deterministic, so it is this one.
    GPtr<GstCaps> caps = adopt(gst_caps_from_string("video/x-vp8,width=320,height=240"));
    BlackKeyframes::Spec spec;
    REQUIRE(BlackKeyframes::describe(caps.get(), spec, error));
    const auto encoded = BlackKeyframes::encode(spec, error);
    REQUIRE(encoded.size() == 1);
    const std::vector<guint8> blackBytes = bytes(encoded[0].get());

    std::vector<size_t> black;
    for (size_t k = 0; k < frames.size(); ++k)
        if (frames[k].bytes == blackBytes)
            black.push_back(k);
    REQUIRE(black.size() >= 2);
    // One run, the first where the stream stopped (one frame after the last real one), then
    // one a second, every one a keyframe.
    CHECK(black.back() - black.front() + 1 == black.size());
    const size_t first = black.front();
    REQUIRE(first > 30);
    const GstClockTime frame = GST_SECOND / 30;
    CHECK(frames[first].pts >= frames[first - 1].pts + frame - GST_MSECOND);
    CHECK(frames[first].pts <= frames[first - 1].pts + frame + 5 * GST_MSECOND);
    for (size_t k = 0; k < black.size(); ++k) {
        CHECK(frames[black[k]].key);
        CHECK(frames[black[k]].pts == frames[first].pts + k * GST_SECOND);
    }
    CHECK(black.size() >= 2);
    CHECK(black.size() <= 4);
    // The real stream resumes at a keyframe the filler asked for (the encoder makes none by
    // itself), after the last black, and goes on.
    const size_t resumed = black.back() + 1;
    REQUIRE(resumed < frames.size());
    CHECK(frames[resumed].key);
    CHECK(frames[resumed].pts > frames[black.back()].pts);
    CHECK(frames.size() - resumed > 20);
    CHECK(requests.load() >= 2);
    for (size_t k = 1; k < frames.size(); ++k)
        CHECK(frames[k].pts > frames[k - 1].pts);
}
