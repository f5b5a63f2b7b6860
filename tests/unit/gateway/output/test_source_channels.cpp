// A template's audio-channels capsfilter follows the channels the participant really codes (the
// Opus TOC's s bit), not the stereo every browser declares: the TOC rule, the caps rewrite, and
// what a decoder behind the hooked capsfilter negotiates for mono and stereo packets.
#include "gateway/media/audio_gap_filler.h"
#include "gateway/media/opus_packet.h"
#include "gateway/output/source_channels.h"
#include "test_support.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <catch2/catch.hpp>

using rc::gateway::AudioGapFiller;
using rc::gateway::capsWithChannels;
using rc::gateway::followSourceChannels;
using rc::gateway::opusPacketChannels;

namespace {

int channelsOf(const GstCaps *caps)
{
    int channels = 0;
    if (caps && gst_caps_get_size(caps) > 0)
        gst_structure_get_int(gst_caps_get_structure(caps, 0), "channels", &channels);
    return channels;
}

// Declared as browsers declare it (2 channels), coded as `stereoPackets` says; hooked or not.
// As in rtmp-passthrough, a converter sits between the decoder (which negotiates the declared
// channels at the caps event, before any packet) and the capsfilter. Returns the channels that
// leave the capsfilter, i.e. what an encoder behind it would get.
int decodedChannels(bool stereoPackets, bool hooked)
{
    rc::GPtr<GstElement> pipeline = rc::refSink(gst_parse_launch(
        "appsrc name=src format=time "
        "caps=audio/x-opus,rate=48000,channels=2,channel-mapping-family=0 "
        "! opusdec name=audio ! audioconvert "
        "! capsfilter name=audio-channels caps=\"audio/x-raw,rate=48000,channels=2\" "
        "! appsink name=sink sync=false",
        nullptr));
    REQUIRE(pipeline);
    rc::GPtr<GstElement> src = rc::test::child(pipeline.get(), "src");
    rc::GPtr<GstElement> dec = rc::test::child(pipeline.get(), "audio");
    rc::GPtr<GstElement> sink = rc::test::child(pipeline.get(), "sink");
    rc::GPtr<GstPad> entry = rc::adopt(gst_element_get_static_pad(dec.get(), "sink"));
    if (hooked)
        REQUIRE(followSourceChannels(pipeline.get(), entry.get()));
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    for (int i = 0; i < 5; ++i) {
        rc::GPtr<GstBuffer> packet
            = AudioGapFiller::silencePacket(i * 20 * GST_MSECOND, 20 * GST_MSECOND, stereoPackets);
        REQUIRE(gst_app_src_push_buffer(GST_APP_SRC(src.get()), packet.release()) == GST_FLOW_OK);
    }
    GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 5 * GST_SECOND);
    REQUIRE(sample);
    const int channels = channelsOf(gst_sample_get_caps(sample));
    gst_sample_unref(sample);
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return channels;
}

} // namespace

TEST_CASE("the TOC's s bit says mono or stereo", "[opus]")
{
    const uint8_t mono[] = { 0x78, 0xff, 0xfe }; // CELT FB 20 ms, s = 0
    const uint8_t stereo[] = { 0x7c, 0xff, 0xfe }; // the same, s = 1
    const uint8_t silkMono[] = { 0x08 }; // SILK NB 20 ms, s = 0, one frame
    CHECK(opusPacketChannels(mono, sizeof mono) == 1);
    CHECK(opusPacketChannels(stereo, sizeof stereo) == 2);
    CHECK(opusPacketChannels(silkMono, sizeof silkMono) == 1);
    CHECK(opusPacketChannels(stereo, 0) == 0);
    CHECK(opusPacketChannels(nullptr, 3) == 0);
}

TEST_CASE("capsWithChannels sets channels and drops a contradicting mask", "[caps]")
{
    rc::test::ensureGstInit();
    rc::GPtr<GstCaps> caps = rc::adopt(gst_caps_from_string(
        "audio/x-raw,rate=48000,channels=2,channel-mask=(bitmask)0x3; audio/x-raw,rate=44100"));
    rc::GPtr<GstCaps> mono = capsWithChannels(caps.get(), 1);
    REQUIRE(gst_caps_get_size(mono.get()) == 2);
    for (guint i = 0; i < 2; ++i) {
        const GstStructure *s = gst_caps_get_structure(mono.get(), i);
        int channels = 0;
        CHECK((gst_structure_get_int(s, "channels", &channels) && channels == 1));
        CHECK_FALSE(gst_structure_has_field(s, "channel-mask"));
    }
    int rate = 0;
    CHECK((gst_structure_get_int(gst_caps_get_structure(mono.get(), 0), "rate", &rate)
        && rate == 48000));
    rc::GPtr<GstCaps> any = rc::adopt(gst_caps_new_any());
    CHECK(channelsOf(capsWithChannels(any.get(), 2).get()) == 2);
    CHECK(channelsOf(capsWithChannels(nullptr, 1).get()) == 1);
}

TEST_CASE("the decoder behind audio-channels outputs what the source codes", "[pipeline]")
{
    rc::test::ensureGstInit();
    rc::test::requireElementsOrSkip({ "opusdec", "appsrc", "appsink" });
    SECTION("mono packets declared stereo: mono")
    {
        CHECK(decodedChannels(false, true) == 1);
    }
    SECTION("stereo packets: stereo")
    {
        CHECK(decodedChannels(true, true) == 2);
    }
    SECTION("without the hook the declared stereo decides (control)")
    {
        CHECK(decodedChannels(false, false) == 2);
    }
}

TEST_CASE("no audio-channels element, no hook", "[pipeline]")
{
    rc::test::ensureGstInit();
    rc::GPtr<GstElement> bin
        = rc::refSink(gst_parse_launch("opusdec name=audio ! fakesink", nullptr));
    REQUIRE(bin);
    rc::GPtr<GstElement> dec = rc::adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "audio"));
    rc::GPtr<GstPad> entry = rc::adopt(gst_element_get_static_pad(dec.get(), "sink"));
    CHECK_FALSE(followSourceChannels(bin.get(), entry.get()));
    CHECK_FALSE(followSourceChannels(bin.get(), nullptr));
}
