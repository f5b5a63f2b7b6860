// Dating a file's first video frame back to its t=0 (and an audio packet straddling it forward)
// for muxers that start every track at 0: which bins need it (mp4mux yes, matroskamux no) and how
// one buffer's timestamps move.
#include "gateway/output/track_start.h"

#include <catch2/catch.hpp>

using rc::gateway::dateBackTo;
using rc::gateway::dateForwardTo;
using rc::gateway::startsEachTrackAtZero;

namespace {

struct Gst
{
    Gst() { gst_init(nullptr, nullptr); }
};

GstBuffer *frame(GstClockTime pts, GstClockTime dts, GstClockTime duration)
{
    static Gst once;
    GstBuffer *b = gst_buffer_new_allocate(nullptr, 8, nullptr);
    GST_BUFFER_PTS(b) = pts;
    GST_BUFFER_DTS(b) = dts;
    GST_BUFFER_DURATION(b) = duration;
    return b;
}

GstSegment timeSegment(GstClockTime start = 0, GstClockTime base = 0)
{
    GstSegment s;
    gst_segment_init(&s, GST_FORMAT_TIME);
    s.start = start;
    s.time = start;
    s.position = start;
    s.base = base;
    return s;
}

bool zeroing(const char *description)
{
    static Gst once;
    GError *error = nullptr;
    GstElement *bin = gst_parse_bin_from_description(description, FALSE, &error);
    REQUIRE(bin);
    gst_object_ref_sink(bin);
    const bool z = startsEachTrackAtZero(bin);
    gst_object_unref(bin);
    return z;
}

} // namespace

TEST_CASE("the qtmux family starts each track at zero, Matroska does not")
{
    CHECK(zeroing("queue name=video ! mp4mux fragment-duration=500 ! fakesink"));
    CHECK(zeroing("bin ( queue ! qtmux ! fakesink )"));
    CHECK_FALSE(zeroing("queue ! matroskamux ! fakesink"));
    CHECK_FALSE(zeroing("queue ! webmmux ! fakesink"));
    CHECK_FALSE(startsEachTrackAtZero(nullptr));
}

TEST_CASE("a first frame later than the file's start is dated back to it")
{
    const GstClockTime ms = GST_MSECOND;
    GstBuffer *b = frame(1070 * ms, 1070 * ms, 33 * ms);
    const GstSegment seg = timeSegment();
    REQUIRE(dateBackTo(b, seg, 1000 * ms));
    CHECK(GST_BUFFER_PTS(b) == 1000 * ms);
    CHECK(GST_BUFFER_DTS(b) == 1000 * ms);
    // Shown until the second frame's true time.
    CHECK(GST_BUFFER_DURATION(b) == 103 * ms);
    gst_buffer_unref(b);
}

TEST_CASE("dating back works in running time, through the segment")
{
    const GstClockTime ms = GST_MSECOND;
    // start 10 s, base 2 s: position 10.5 s is running time 2.5 s.
    const GstSegment seg = timeSegment(10000 * ms, 2000 * ms);
    GstBuffer *b = frame(10500 * ms, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE);
    REQUIRE(dateBackTo(b, seg, 2200 * ms));
    CHECK(GST_BUFFER_PTS(b) == 10200 * ms);
    CHECK_FALSE(GST_BUFFER_DTS_IS_VALID(b));
    CHECK_FALSE(GST_BUFFER_DURATION_IS_VALID(b));
    gst_buffer_unref(b);
}

TEST_CASE("a frame at or before the start, or outside the segment, stays as it is")
{
    const GstClockTime ms = GST_MSECOND;
    const GstSegment seg = timeSegment(500 * ms);
    GstBuffer *b = frame(800 * ms, 800 * ms, 33 * ms);
    CHECK_FALSE(dateBackTo(b, seg, 300 * ms)); // running 300 ms: already at the start
    CHECK_FALSE(dateBackTo(b, seg, 400 * ms)); // the frame lies before the start
    CHECK(GST_BUFFER_PTS(b) == 800 * ms);
    // Segment base 2 s: running time 1 s lies before anything this segment can place.
    const GstSegment later = timeSegment(500 * ms, 2000 * ms);
    CHECK_FALSE(dateBackTo(b, later, 1000 * ms));
    CHECK(GST_BUFFER_PTS(b) == 800 * ms);
    CHECK(GST_BUFFER_DURATION(b) == 33 * ms);
    GstSegment bytes;
    gst_segment_init(&bytes, GST_FORMAT_BYTES);
    CHECK_FALSE(dateBackTo(b, bytes, 0));
    gst_buffer_unref(b);
}

TEST_CASE("an audio packet straddling the start is dated forward to it, by at most maxShift")
{
    const GstClockTime ms = GST_MSECOND;
    const GstSegment seg = timeSegment();
    GstBuffer *b = frame(996 * ms, 996 * ms, 20 * ms);
    CHECK_FALSE(dateForwardTo(b, seg, 1000 * ms, 3 * ms)); // 4 ms before: more than allowed
    CHECK(GST_BUFFER_PTS(b) == 996 * ms);
    REQUIRE(dateForwardTo(b, seg, 1000 * ms, 10 * ms));
    CHECK(GST_BUFFER_PTS(b) == 1000 * ms);
    CHECK(GST_BUFFER_DTS(b) == 1000 * ms);
    CHECK(GST_BUFFER_DURATION(b) == 16 * ms); // the next packet keeps its true time
    CHECK_FALSE(dateForwardTo(b, seg, 1000 * ms, 10 * ms)); // now at the start: nothing to do
    CHECK_FALSE(dateForwardTo(b, seg, 990 * ms, 10 * ms)); // after the start: not this one
    gst_buffer_unref(b);
}
