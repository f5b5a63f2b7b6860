// Black frames and silence shaped like a composite's raw buffers; see blank_media.h.
#include "gateway/composite/blank_media.h"

#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include <cstring>

namespace rc::gateway {
namespace {

bool fillBlackVideo(GstBuffer *buffer, const GstVideoInfo &info)
{
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, const_cast<GstVideoInfo *>(&info), buffer, GST_MAP_WRITE))
        return false;
    const bool yuv = GST_VIDEO_INFO_IS_YUV(&info);
    for (guint plane = 0; plane < GST_VIDEO_FRAME_N_PLANES(&frame); ++plane) {
        auto *data = static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
        const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane);
        // Planar YUV (blankLike refuses packed): plane 0 is luma, black being 16 in the video
        // range, the others chroma at their neutral 128; RGB black is all zeros.
        const int value = yuv ? (plane == 0 ? 16 : 128) : 0;
        gint rows = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, 0);
        for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&frame); ++c)
            if (GST_VIDEO_FORMAT_INFO_PLANE(info.finfo, c) == plane) {
                rows = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, c);
                break;
            }
        std::memset(data, value, static_cast<size_t>(stride) * static_cast<size_t>(rows));
    }
    gst_video_frame_unmap(&frame);
    return true;
}

} // namespace

GstBuffer *blankLike(GstBuffer *original, GstCaps *caps) noexcept
{
    if (!original || !caps || gst_caps_get_size(caps) == 0)
        return nullptr;
    const gsize size = gst_buffer_get_size(original);
    const gchar *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
    GstBuffer *blank = nullptr;
    if (g_strcmp0(name, "video/x-raw") == 0) {
        GstVideoInfo info;
        if (!gst_video_info_from_caps(&info, caps) || GST_VIDEO_INFO_SIZE(&info) > size)
            return nullptr;
        if (GST_VIDEO_INFO_IS_YUV(&info) && GST_VIDEO_INFO_N_PLANES(&info) < 2)
            return nullptr; // packed YUV: not what a composite makes
        blank = gst_buffer_new_allocate(nullptr, size, nullptr);
        if (!blank || !fillBlackVideo(blank, info)) {
            if (blank)
                gst_buffer_unref(blank);
            return nullptr;
        }
    } else if (g_strcmp0(name, "audio/x-raw") == 0) {
        GstAudioInfo info;
        if (!gst_audio_info_from_caps(&info, caps))
            return nullptr;
        blank = gst_buffer_new_allocate(nullptr, size, nullptr);
        GstMapInfo map;
        if (!blank || !gst_buffer_map(blank, &map, GST_MAP_WRITE)) {
            if (blank)
                gst_buffer_unref(blank);
            return nullptr;
        }
        gst_audio_format_info_fill_silence(info.finfo, map.data, map.size);
        gst_buffer_unmap(blank, &map);
    } else {
        return nullptr;
    }
    gst_buffer_copy_into(blank, original,
        static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS), 0,
        static_cast<gsize>(-1));
    return blank;
}

} // namespace rc::gateway
