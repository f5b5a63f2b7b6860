// The audio gap filler in a real live pipeline, without WebRTC: live Opus through a valve (the
// sender going away for 2 s) into opusparse, with the filler on the parser's src pad, then
// tee ! queue ! appsink. Opus silence must arrive while the stream is away (in real time, from
// the filler's timer), every timestamp must continue the last without a hole or an overlap,
// and the real packets must come back after the gap. The stream is declared stereo and coded
// mono, as browsers send it: the silence must be coded like the real packets (mono).
#include "gateway/media/audio_gap_filler.h"
#include "test_support.h"

#include <gst/app/gstappsink.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace rc;
using rc::gateway::AudioGapFiller;

namespace {

void requirePlugins()
{
    rc::test::requireElementsOrSkip({ "audiotestsrc", "opusenc", "valve", "opusparse", "capssetter",
        "tee", "queue", "appsink" });
}

struct Packet
{
    GstClockTime pts;
    GstClockTime duration;
    gsize size;
    guint8 toc;
};

// The filler's silence: a 3-byte CELT packet (see AudioGapFiller::silencePacket).
bool isSilence(const Packet &p)
{
    return p.size == 3;
}

// Pulls packets from sink for about `seconds` of wall time.
void pull(GstElement *sink, double seconds, std::vector<Packet> &out)
{
    const auto until
        = std::chrono::steady_clock::now() + std::chrono::milliseconds(int(seconds * 1000));
    while (std::chrono::steady_clock::now() < until) {
        GPtr<GstSample> sample
            = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 50 * GST_MSECOND));
        if (!sample)
            continue;
        GstBuffer *b = gst_sample_get_buffer(sample.get());
        guint8 toc = 0;
        gst_buffer_extract(b, 0, &toc, 1);
        out.push_back({ GST_BUFFER_PTS(b), GST_BUFFER_DURATION(b), gst_buffer_get_size(b), toc });
    }
}

} // namespace

TEST_CASE("a live Opus stream that stops gets silence in real time, on one timeline",
    "[audio-gap-filler]")
{
    requirePlugins();
    GError *err = nullptr;
    GPtr<GstElement> pipeline = refSink(gst_parse_launch(
        "audiotestsrc is-live=true wave=sine samplesperbuffer=960 "
        "! audio/x-raw,rate=48000,channels=1 ! opusenc frame-size=20 ! valve name=valve "
        "! opusparse ! capssetter name=parse caps=audio/x-opus,channels=2 "
        "! tee name=tee allow-not-linked=true "
        "! queue ! appsink name=out sync=false max-buffers=0",
        &err));
    REQUIRE(err == nullptr);
    GstBin *bin = GST_BIN(pipeline.get());
    GPtr<GstElement> parse = adopt(gst_bin_get_by_name(bin, "parse"));
    GPtr<GstElement> valve = adopt(gst_bin_get_by_name(bin, "valve"));
    GPtr<GstElement> sink = adopt(gst_bin_get_by_name(bin, "out"));
    GPtr<GstPad> parsed = adopt(gst_element_get_static_pad(parse.get(), "src"));
    std::unique_ptr<AudioGapFiller> filler = AudioGapFiller::install(parsed.get());
    REQUIRE(filler);

    REQUIRE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    std::vector<Packet> before, during, after;
    pull(sink.get(), 1.5, before);
    REQUIRE(before.size() > 30);
    // The sender goes away for 2 s: silence must come meanwhile, not when it returns.
    g_object_set(valve.get(), "drop", TRUE, nullptr);
    pull(sink.get(), 2.0, during);
    g_object_set(valve.get(), "drop", FALSE, nullptr);
    pull(sink.get(), 1.5, after);
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    filler.reset();

    for (const Packet &p : before)
        CHECK_FALSE(isSilence(p));
    size_t silentDuring = 0;
    for (const Packet &p : during)
        silentDuring += isSilence(p) ? 1 : 0;
    // 2 s minus the 150 ms before a gap starts and the 250 ms kept free behind the clock:
    // about 80 packets of 20 ms; generous for a loaded machine.
    CHECK(silentDuring >= 20);
    size_t realAfter = 0;
    for (const Packet &p : after)
        realAfter += isSilence(p) ? 0 : 1;
    CHECK(realAfter > 30);
    // The TOC's stereo bit (0x04): none in the real packets, none in the silence, although the
    // caps say 2 channels (a decoder would switch layout at every gap).
    size_t stereoPackets = 0;
    for (const std::vector<Packet> *part : { &before, &during, &after })
        for (const Packet &p : *part)
            stereoPackets += (p.toc & 0x04) ? 1 : 0;
    CHECK(stereoPackets == 0);

    std::vector<Packet> all = before;
    all.insert(all.end(), during.begin(), during.end());
    all.insert(all.end(), after.begin(), after.end());
    // One timeline: each packet starts where the one before ended, give or take the holes the
    // plan leaves (under 10 ms); nothing overlaps, nothing goes back. From the second packet:
    // opusenc's first one is shorter than its stated duration (the encoder's lookahead).
    for (size_t k = 2; k < all.size(); ++k) {
        REQUIRE(GST_CLOCK_TIME_IS_VALID(all[k].pts));
        const GstClockTime end = all[k - 1].pts + all[k - 1].duration;
        CHECK(all[k].pts + GST_MSECOND >= end);
        CHECK(all[k].pts < end + 10 * GST_MSECOND);
    }
}
