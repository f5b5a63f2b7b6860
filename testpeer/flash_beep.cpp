// White frame and tone on every multiple of the period (a second by default); see flash_beep.h.
#include "testpeer/flash_beep.h"

#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include <atomic>
#include <cstring>
#include <memory>

namespace rc::testpeer {
namespace {

// Shared by the two probes (each holds a reference): the video frames' phase is what puts the
// tone's first sample on the flash frame's timestamp. Frames come every 1/30 s from wherever the
// source started, so the flash frame is up to a frame after the whole second; a tone on the whole
// second itself led the flash by that much (0..33 ms, fixed for a run, different between runs),
// which is most of an A/V bound of 40 ms.
struct FlashShape
{
    GstClockTime period;
    int frames;
    // Where, after each whole period, the video's frames fall (pts % period, modulo a frame);
    // -1 until the first frame. Written on the video streaming thread, read on the audio one.
    std::atomic<gint64> phase { -1 };
};
using FlashShapePtr = std::shared_ptr<FlashShape>;

// The first frame at or after each whole period starts the flash; it lasts
// shape.frames frames.
GstPadProbeReturn flashProbe(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
{
    auto &shape = **static_cast<FlashShapePtr *>(data);
    const GstClockTime period = shape.period;
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer))
        return GST_PAD_PROBE_OK;
    const GstClockTime pts = GST_BUFFER_PTS(buffer);
    const GstClockTime length
        = GST_BUFFER_DURATION_IS_VALID(buffer) ? GST_BUFFER_DURATION(buffer) : GST_SECOND / 30;
    shape.phase.store(static_cast<gint64>(pts % period % length), std::memory_order_relaxed);
    if (pts % period >= length * static_cast<GstClockTime>(shape.frames))
        return GST_PAD_PROBE_OK;
    const bool first = pts % period < length;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    GstVideoInfo vinfo;
    const bool ok = caps && gst_video_info_from_caps(&vinfo, caps);
    if (caps)
        gst_caps_unref(caps);
    if (!ok || GST_VIDEO_INFO_FORMAT(&vinfo) != GST_VIDEO_FORMAT_I420)
        return GST_PAD_PROBE_OK;
    buffer = gst_buffer_make_writable(buffer);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &vinfo, buffer, GST_MAP_WRITE))
        return GST_PAD_PROBE_OK;
    // Full luma, neutral chroma: white.
    auto *y = static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
    for (int row = 0; row < GST_VIDEO_FRAME_HEIGHT(&frame); ++row)
        std::memset(y + row * stride, 235, GST_VIDEO_FRAME_WIDTH(&frame));
    gst_video_frame_unmap(&frame);
    if (!first)
        return GST_PAD_PROBE_OK;
    // The wall-clock instant of the flash, for glass-to-glass latency tests (WHEP viewers): when
    // the frame was made (its running time on the pipeline clock), not when it reached the
    // encoder, which may be a few hundred ms later on a loaded machine.
    gint64 wallUs = g_get_real_time();
    if (GstElement *encoder = gst_pad_get_parent_element(pad)) {
        if (GstClock *clock = gst_element_get_clock(encoder)) {
            const GstClockTime made = gst_element_get_base_time(encoder) + pts;
            const GstClockTime nowOnClock = gst_clock_get_time(clock);
            if (nowOnClock > made)
                wallUs -= static_cast<gint64>((nowOnClock - made) / GST_USECOND);
            gst_object_unref(clock);
        }
        gst_object_unref(encoder);
    }
    g_printerr("testpeer: flash at %.3f\n", static_cast<double>(wallUs) / 1e6);
    return GST_PAD_PROBE_OK;
}

// Silences every sample outside [k period + phase, k period + phase + kBeepDuration): the tone
// starts on the flash frame's timestamp. Everything is silent until the first video frame gives
// the phase.
GstPadProbeReturn beepProbe(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
{
    const auto &shape = **static_cast<const FlashShapePtr *>(data);
    const GstClockTime period = shape.period;
    const gint64 phase = shape.phase.load(std::memory_order_relaxed);
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer))
        return GST_PAD_PROBE_OK;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    GstAudioInfo ainfo;
    const bool ok = caps && gst_audio_info_from_caps(&ainfo, caps);
    if (caps)
        gst_caps_unref(caps);
    const GstAudioFormat format = GST_AUDIO_INFO_FORMAT(&ainfo);
    if (!ok || (format != GST_AUDIO_FORMAT_S16LE && format != GST_AUDIO_FORMAT_F32LE))
        return GST_PAD_PROBE_OK;
    buffer = gst_buffer_make_writable(buffer);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_WRITE))
        return GST_PAD_PROBE_OK;
    const int rate = GST_AUDIO_INFO_RATE(&ainfo);
    const int bpf = GST_AUDIO_INFO_BPF(&ainfo);
    const gsize frames = map.size / bpf;
    const GstClockTime pts = GST_BUFFER_PTS(buffer);
    for (gsize i = 0; i < frames; ++i) {
        const GstClockTime t = pts + gst_util_uint64_scale_int(i, GST_SECOND, rate);
        const auto shift = static_cast<GstClockTime>(phase);
        if (phase < 0 || t < shift || (t - shift) % period >= kBeepDuration)
            std::memset(map.data + i * bpf, 0, bpf); // zero is silence in both formats
    }
    gst_buffer_unmap(buffer, &map);
    return GST_PAD_PROBE_OK;
}

} // namespace

void installFlashBeep(
    GstPad *videoEncoderSink, GstPad *audioEncoderSink, GstClockTime period, int frames)
{
    // Each probe holds a reference to the shared shape (dropped with the probe).
    auto shape = std::make_shared<FlashShape>();
    shape->period = period;
    shape->frames = frames;
    const auto drop = [](gpointer p) { delete static_cast<FlashShapePtr *>(p); };
    gst_pad_add_probe(
        videoEncoderSink, GST_PAD_PROBE_TYPE_BUFFER, flashProbe, new FlashShapePtr(shape), drop);
    gst_pad_add_probe(
        audioEncoderSink, GST_PAD_PROBE_TYPE_BUFFER, beepProbe, new FlashShapePtr(shape), drop);
}

} // namespace rc::testpeer
