// Dating a file's first video frame back to its t=0; see track_start.h.
#include "gateway/output/track_start.h"

#include <array>
#include <string_view>

namespace rc::gateway {

bool startsEachTrackAtZero(GstElement *bin)
{
    // By factory: the GstQTMux type is private to the isomp4 plugin.
    constexpr std::array<std::string_view, 5> kZeroing { "mp4mux", "qtmux", "ismlmux", "3gppmux",
        "mj2mux" };
    if (!bin || !GST_IS_BIN(bin))
        return false;
    bool found = false;
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(bin));
    GValue item = G_VALUE_INIT;
    bool done = false;
    while (!done && !found) {
        switch (gst_iterator_next(it, &item)) {
        case GST_ITERATOR_OK: {
            auto *element = GST_ELEMENT(g_value_get_object(&item));
            GstElementFactory *factory = gst_element_get_factory(element); // borrowed
            const char *name = factory ? GST_OBJECT_NAME(factory) : nullptr;
            for (auto z : kZeroing)
                found = found || (name && z == name);
            g_value_reset(&item);
            break;
        }
        case GST_ITERATOR_RESYNC:
            gst_iterator_resync(it);
            break;
        default:
            done = true;
            break;
        }
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return found;
}

bool dateBackTo(GstBuffer *buffer, const GstSegment &segment, GstClockTime base)
{
    if (!buffer || segment.format != GST_FORMAT_TIME || !GST_CLOCK_TIME_IS_VALID(base))
        return false;
    const GstClockTime pts = GST_BUFFER_PTS(buffer);
    if (!GST_CLOCK_TIME_IS_VALID(pts))
        return false;
    const GstClockTime running = gst_segment_to_running_time(&segment, GST_FORMAT_TIME, pts);
    if (!GST_CLOCK_TIME_IS_VALID(running) || running <= base)
        return false;
    const GstClockTime target
        = gst_segment_position_from_running_time(&segment, GST_FORMAT_TIME, base);
    if (!GST_CLOCK_TIME_IS_VALID(target) || target >= pts)
        return false;
    const GstClockTime lead = pts - target;
    GstClockTime dts = GST_BUFFER_DTS(buffer);
    if (GST_CLOCK_TIME_IS_VALID(dts)) {
        // DTS never after PTS: without B-frames they are equal, with them DTS is earlier.
        if (dts < lead)
            return false;
        GST_BUFFER_DTS(buffer) = dts - lead;
    }
    GST_BUFFER_PTS(buffer) = target;
    if (GST_BUFFER_DURATION_IS_VALID(buffer))
        GST_BUFFER_DURATION(buffer) += lead;
    return true;
}

bool dateForwardTo(
    GstBuffer *buffer, const GstSegment &segment, GstClockTime base, GstClockTime maxShift)
{
    if (!buffer || segment.format != GST_FORMAT_TIME || !GST_CLOCK_TIME_IS_VALID(base))
        return false;
    const GstClockTime pts = GST_BUFFER_PTS(buffer);
    if (!GST_CLOCK_TIME_IS_VALID(pts))
        return false;
    const GstClockTime running = gst_segment_to_running_time(&segment, GST_FORMAT_TIME, pts);
    if (!GST_CLOCK_TIME_IS_VALID(running) || running >= base || base - running > maxShift)
        return false;
    const GstClockTime target
        = gst_segment_position_from_running_time(&segment, GST_FORMAT_TIME, base);
    if (!GST_CLOCK_TIME_IS_VALID(target) || target <= pts)
        return false;
    const GstClockTime shift = target - pts;
    GST_BUFFER_PTS(buffer) = target;
    if (GST_BUFFER_DTS_IS_VALID(buffer))
        GST_BUFFER_DTS(buffer) += shift;
    if (GST_BUFFER_DURATION_IS_VALID(buffer))
        GST_BUFFER_DURATION(buffer)
            = GST_BUFFER_DURATION(buffer) > shift ? GST_BUFFER_DURATION(buffer) - shift : 0;
    return true;
}

} // namespace rc::gateway
