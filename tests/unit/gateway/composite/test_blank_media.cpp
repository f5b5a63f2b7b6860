// Black frames and silence in the shape of a composite's raw buffers (a paused stream's media).
#include "gateway/composite/blank_media.h"

#include <catch2/catch.hpp>

#include <gst/audio/audio.h>
#include <gst/video/video.h>

namespace {

struct GstInit
{
    GstInit() { gst_init(nullptr, nullptr); }
} gstInit;

GstBuffer *filled(gsize size, guint8 value)
{
    GstBuffer *b = gst_buffer_new_allocate(nullptr, size, nullptr);
    gst_buffer_memset(b, 0, value, size);
    GST_BUFFER_PTS(b) = 5 * GST_SECOND;
    GST_BUFFER_DURATION(b) = GST_SECOND / 30;
    GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
    return b;
}

} // namespace

TEST_CASE("an I420 frame becomes black with the original's times and flags", "[blank]")
{
    GstVideoInfo info;
    gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, 64, 36);
    GstCaps *caps = gst_video_info_to_caps(&info);
    GstBuffer *original = filled(GST_VIDEO_INFO_SIZE(&info), 200);
    GstBuffer *blank = rc::gateway::blankLike(original, caps);
    REQUIRE(blank);
    CHECK(blank != original);
    CHECK(GST_BUFFER_PTS(blank) == 5 * GST_SECOND);
    CHECK(GST_BUFFER_DURATION(blank) == GST_SECOND / 30);
    CHECK(GST_BUFFER_FLAG_IS_SET(blank, GST_BUFFER_FLAG_DISCONT));
    GstMapInfo map;
    REQUIRE(gst_buffer_map(blank, &map, GST_MAP_READ));
    const gsize luma = GST_VIDEO_INFO_PLANE_OFFSET(&info, 1);
    for (gsize i = 0; i < map.size; i += 97)
        CHECK(int(map.data[i]) == (i < luma ? 16 : 128));
    gst_buffer_unmap(blank, &map);
    // The original (shared with the other outputs through the tee) is untouched.
    REQUIRE(gst_buffer_map(original, &map, GST_MAP_READ));
    CHECK(int(map.data[0]) == 200);
    gst_buffer_unmap(original, &map);
    gst_buffer_unref(blank);
    gst_buffer_unref(original);
    gst_caps_unref(caps);
}

TEST_CASE("S16LE audio becomes silence; other caps are refused", "[blank]")
{
    GstAudioInfo info;
    gst_audio_info_set_format(&info, GST_AUDIO_FORMAT_S16LE, 48000, 2, nullptr);
    GstCaps *caps = gst_audio_info_to_caps(&info);
    GstBuffer *original = filled(1920 * 4, 0x55);
    GstBuffer *blank = rc::gateway::blankLike(original, caps);
    REQUIRE(blank);
    CHECK(gst_buffer_get_size(blank) == 1920 * 4);
    GstMapInfo map;
    REQUIRE(gst_buffer_map(blank, &map, GST_MAP_READ));
    bool silent = true;
    for (gsize i = 0; i < map.size; ++i)
        silent = silent && map.data[i] == 0;
    CHECK(silent);
    gst_buffer_unmap(blank, &map);
    gst_buffer_unref(blank);
    gst_caps_unref(caps);

    GstCaps *encoded = gst_caps_from_string("video/x-h264");
    CHECK(rc::gateway::blankLike(original, encoded) == nullptr);
    CHECK(rc::gateway::blankLike(original, nullptr) == nullptr);
    gst_caps_unref(encoded);
    // A video buffer smaller than its caps say: refused, not overrun.
    GstVideoInfo vinfo;
    gst_video_info_set_format(&vinfo, GST_VIDEO_FORMAT_I420, 1280, 720);
    GstCaps *big = gst_video_info_to_caps(&vinfo);
    CHECK(rc::gateway::blankLike(original, big) == nullptr);
    gst_caps_unref(big);
    gst_buffer_unref(original);
}
