// Dropping raw media for a while at the encoders' inputs; see send_pause.h.
#include "testpeer/send_pause.h"

#include "common/base/log.h"

#include <atomic>

namespace rc::testpeer {
namespace {

struct Pause
{
    GstClockTime at;
    GstClockTime length;
    const char *what;
    std::atomic<int> phase { 0 }; // 0 before, 1 paused, 2 after: each change logged once
};

GstPadProbeReturn pauseProbe(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    auto *pause = static_cast<Pause *>(data);
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer))
        return GST_PAD_PROBE_OK;
    const GstClockTime pts = GST_BUFFER_PTS(buffer);
    const int phase = pts < pause->at ? 0 : pts < pause->at + pause->length ? 1 : 2;
    if (pause->phase.exchange(phase) != phase)
        RC_LOG_INFO("%s sending %s at %.3f s", pause->what, phase == 1 ? "paused" : "resumed",
            static_cast<double>(pts) / GST_SECOND);
    return phase == 1 ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

void add(GstPad *pad, GstClockTime at, GstClockTime length, const char *what)
{
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, pauseProbe, new Pause { at, length, what },
        [](gpointer p) { delete static_cast<Pause *>(p); });
}

} // namespace

void installSendPause(
    GstPad *videoEncoderSink, GstPad *audioEncoderSink, GstClockTime at, GstClockTime length)
{
    add(videoEncoderSink, at, length, "video");
    add(audioEncoderSink, at, length, "audio");
}

} // namespace rc::testpeer
