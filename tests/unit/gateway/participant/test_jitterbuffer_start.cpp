// The gateway's jitterbuffers start a stream as soon as a few packets in sequence are there,
// instead of holding the first one for the whole latency (most of ICE connected -> first
// keyframe): what tuneJitterbuffer does to a jitterbuffer, and that prepare() applies it to every
// jitterbuffer webrtcbin makes.
#include "gateway/participant/offer_builder.h"
#include "test_support.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <catch2/catch.hpp>

using rc::gateway::OfferBuilder;

namespace {

// Longer than anything the test waits, so a packet that comes out did not wait for it.
constexpr guint kLatencyMs = 5000;

GstBuffer *rtpPacket(guint16 seq)
{
    GstBuffer *buffer = gst_rtp_buffer_new_allocate(20, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    gst_rtp_buffer_map(buffer, GST_MAP_WRITE, &rtp);
    gst_rtp_buffer_set_payload_type(&rtp, 96);
    gst_rtp_buffer_set_seq(&rtp, seq);
    gst_rtp_buffer_set_timestamp(&rtp, 1000 + 3000u * seq);
    gst_rtp_buffer_set_ssrc(&rtp, 1234);
    gst_rtp_buffer_unmap(&rtp);
    return buffer;
}

// appsrc (live, timestamps from the clock) ! rtpjitterbuffer latency=5 s ! appsink; pushes the
// given sequence numbers and returns whether a packet came out within `wait`.
bool packetOutWithin(bool tuned, const std::vector<guint16> &seqs, GstClockTime wait)
{
    rc::GPtr<GstElement> pipeline = rc::refSink(gst_parse_launch(
        "appsrc name=src is-live=true do-timestamp=true format=time "
        "caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=96 "
        "! rtpjitterbuffer name=jb ! appsink name=sink sync=false",
        nullptr));
    REQUIRE(pipeline);
    rc::GPtr<GstElement> jb = rc::test::child(pipeline.get(), "jb");
    rc::GPtr<GstElement> src = rc::test::child(pipeline.get(), "src");
    rc::GPtr<GstElement> sink = rc::test::child(pipeline.get(), "sink");
    g_object_set(jb.get(), "latency", kLatencyMs, nullptr);
    if (tuned)
        OfferBuilder::tuneJitterbuffer(jb.get());
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    // The stream's first events wait in the jitterbuffer's queue too, and the start check only
    // counts packets at its head: as in a real stream, where packets keep coming, the check that
    // counts is one made after the events went out.
    REQUIRE(
        gst_app_src_push_buffer(GST_APP_SRC(src.get()), rtpPacket(seqs.front())) == GST_FLOW_OK);
    rc::GPtr<GstPad> sinkPad = rc::adopt(gst_element_get_static_pad(sink.get(), "sink"));
    for (int i = 0; i < 200; ++i) {
        if (GstEvent *segment = gst_pad_get_sticky_event(sinkPad.get(), GST_EVENT_SEGMENT, 0)) {
            gst_event_unref(segment);
            break;
        }
        g_usleep(10000);
    }
    for (size_t i = 1; i < seqs.size(); ++i)
        REQUIRE(gst_app_src_push_buffer(GST_APP_SRC(src.get()), rtpPacket(seqs[i])) == GST_FLOW_OK);
    GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), wait);
    bool out = sample != nullptr;
    if (sample)
        gst_sample_unref(sample);
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return out;
}

} // namespace

TEST_CASE("a tuned jitterbuffer starts with three packets in sequence", "[jitterbuffer]")
{
    rc::test::ensureGstInit();
    rc::GPtr<GstElement> jb = rc::refSink(gst_element_factory_make("rtpjitterbuffer", nullptr));
    REQUIRE(jb);
    OfferBuilder::tuneJitterbuffer(jb.get());
    guint packets = 0;
    g_object_get(jb.get(), "faststart-min-packets", &packets, nullptr);
    CHECK(packets == 3);

    // Well inside the 5 s latency: out at once when tuned; held when not (the control).
    CHECK(packetOutWithin(true, { 10, 11, 12 }, 2 * GST_SECOND));
    CHECK_FALSE(packetOutWithin(false, { 10, 11, 12 }, GST_SECOND));
    // A gap among the first packets still waits: the missing one may yet arrive.
    CHECK_FALSE(packetOutWithin(true, { 10, 12, 13 }, GST_SECOND));
}

TEST_CASE("prepare() tunes every jitterbuffer webrtcbin's rtpbin makes", "[jitterbuffer]")
{
    rc::test::ensureGstInit();
    rc::GPtr<GstElement> webrtcbin = rc::refSink(gst_element_factory_make("webrtcbin", nullptr));
    REQUIRE(webrtcbin);
    std::string error;
    REQUIRE(OfferBuilder::prepare(webrtcbin.get(), OfferBuilder::Config {}, error, false));
    rc::GPtr<GstElement> rtpbin
        = rc::adopt(gst_bin_get_by_name(GST_BIN(webrtcbin.get()), "rtpbin"));
    REQUIRE(rtpbin);
    // A jitterbuffer as rtpbin announces its new ones. Session 0 has no transport yet, so
    // webrtcbin's own handler warns "code should not be reached" and does nothing; ours runs after.
    rc::GPtr<GstElement> jb = rc::refSink(gst_element_factory_make("rtpjitterbuffer", nullptr));
    g_signal_emit_by_name(rtpbin.get(), "new-jitterbuffer", jb.get(), 0u, 1234u);
    guint packets = 0;
    g_object_get(jb.get(), "faststart-min-packets", &packets, nullptr);
    CHECK(packets == 3);
}
