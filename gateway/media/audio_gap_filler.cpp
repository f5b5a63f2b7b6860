// Opus silence across audio gaps, in real time; see audio_gap_filler.h.
#include "gateway/media/audio_gap_filler.h"

#include "common/gst/gst_helpers.h"
#include "gateway/media/audio_gap_plan.h"
#include "gateway/media/gap_branch.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <mutex>

namespace rc::gateway {

struct AudioGapFiller::State
{
    std::mutex mutex;
    AudioGapPlan plan;
    GPtr<GstElement> src; // the appsrc: both threads push here, under mutex
    GPtr<GstCaps> caps; // the last caps given to src
    bool stereo = false;
    // The one-shot timer that calls onTick (see armTick); replaced at each firing. stopped: the
    // filler is gone, arm nothing more.
    GstClockID tick = nullptr;
    bool stopped = false;
    rc::log::Logger log { "gateway" };
};

namespace {

using Ns = AudioGapPlan::Ns;
using StatePtr = std::shared_ptr<AudioGapFiller::State>;
// Before the first packet (no timeline yet) and without a pipeline clock: how often to look.
constexpr Ns kPoll = 100 * AudioGapPlan::kMs;
// A timer never fires sooner than this after the last (no busy loop on a clock that runs early).
constexpr Ns kMinDelay = 2 * AudioGapPlan::kMs;

// The element's running time now, or -1 without a clock (not playing yet).
Ns runningNow(GstElement *element)
{
    GPtr<GstClock> clock = adopt(gst_element_get_clock(element));
    if (!clock)
        return -1;
    const GstClockTime now = gst_clock_get_time(clock.get());
    const GstClockTime base = gst_element_get_base_time(element);
    return now >= base ? static_cast<Ns>(now - base) : -1;
}

// Called with state.mutex held.
void pushSilence(AudioGapFiller::State &state, const std::vector<AudioGapPlan::Frame> &frames)
{
    if (!state.caps)
        return;
    for (const auto &f : frames) {
        GPtr<GstBuffer> b = AudioGapFiller::silencePacket(f.pts, f.duration, state.stereo);
        // Not blocking (block=FALSE): a stalled muxer must not stall the clock thread.
        gst_app_src_push_buffer(GST_APP_SRC(state.src.get()), b.release());
    }
}

GstFlowReturn onSample(GstAppSink *sink, gpointer data) noexcept
{
    auto &state = **static_cast<std::shared_ptr<AudioGapFiller::State> *>(data);
    GPtr<GstSample> sample = adopt(gst_app_sink_pull_sample(sink));
    if (!sample)
        return GST_FLOW_OK;
    GstBuffer *buffer = gst_sample_get_buffer(sample.get());
    if (!buffer)
        return GST_FLOW_OK;
    GstCaps *caps = gst_sample_get_caps(sample.get());
    const GstSegment *segment = gst_sample_get_segment(sample.get());
    // appsrc's segment starts at 0: PTS out is the running time in.
    Ns pts = -1;
    if (GST_BUFFER_PTS_IS_VALID(buffer) && segment && segment->format == GST_FORMAT_TIME) {
        const guint64 running
            = gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
        if (GST_CLOCK_TIME_IS_VALID(running))
            pts = static_cast<Ns>(running);
    }
    const Ns duration
        = GST_BUFFER_DURATION_IS_VALID(buffer) ? static_cast<Ns>(GST_BUFFER_DURATION(buffer)) : 0;
    Ns arrival = runningNow(GST_ELEMENT(sink));
    if (arrival < 0)
        arrival = pts;

    std::lock_guard<std::mutex> lock(state.mutex);
    if (caps && (!state.caps || !gst_caps_is_equal(caps, state.caps.get()))) {
        state.caps = adopt(gst_caps_ref(caps));
        gint channels = 1;
        const GstStructure *s = gst_caps_get_structure(caps, 0);
        if (s)
            gst_structure_get_int(s, "channels", &channels);
        state.stereo = channels == 2;
        gst_app_src_set_caps(GST_APP_SRC(state.src.get()), caps);
    }
    const bool wasInGap = state.plan.inGap();
    const AudioGapPlan::Decision d = state.plan.real(pts, duration, arrival);
    pushSilence(state, d.silenceBefore);
    if (wasInGap && d.pass)
        state.log.info("audio resumed at %.3f s after a gap: %.0f ms of Opus silence written "
                       "(packet PTS %.3f s, arrived at %.3f s)",
            static_cast<double>(d.pts) / 1e9, static_cast<double>(d.gapEnded) / 1e6,
            static_cast<double>(pts) / 1e9, static_cast<double>(arrival) / 1e9);
    if (!d.pass) {
        state.log.debug("audio packet at %.3f s dropped: silence already covers it",
            static_cast<double>(pts) / 1e9);
        return GST_FLOW_OK;
    }
    GstBuffer *out = gst_buffer_make_writable(gst_buffer_ref(buffer));
    if (pts >= 0) {
        GST_BUFFER_PTS(out) = static_cast<GstClockTime>(d.pts);
        GST_BUFFER_DTS(out) = static_cast<GstClockTime>(d.pts);
    }
    // Never an error upstream: a FLUSHING returned to the jitterbuffer stops its task for good
    // (see StreamChain::linkBranch); while stopping, appsrc just drops what comes.
    gst_app_src_push_buffer(GST_APP_SRC(state.src.get()), out);
    return GST_FLOW_OK;
}

void onEos(GstAppSink *, gpointer data) noexcept
{
    auto &state = **static_cast<std::shared_ptr<AudioGapFiller::State> *>(data);
    std::lock_guard<std::mutex> lock(state.mutex);
    gst_app_src_end_of_stream(GST_APP_SRC(state.src.get()));
}

gboolean onTick(GstClock *, GstClockTime, GstClockID, gpointer data) noexcept;

void deleteState(gpointer data) noexcept
{
    delete static_cast<StatePtr *>(data);
}

// Called with state.mutex held: a one-shot timer at the running time the plan asks for (or
// kPoll from now), on the system clock. One wake-up per startAfter (150 ms) while the stream
// flows, every 20 ms only in a gap: a periodic 20 ms tick woke the clock thread 50 times a
// second per participant for nothing.
void armTick(const StatePtr &shared, Ns now)
{
    auto &state = *shared;
    Ns delay = kPoll;
    if (now >= 0) {
        const Ns at = state.plan.nextTick(now);
        if (at >= 0)
            delay = std::clamp(at - now, kMinDelay, kPoll * 10);
    }
    GPtr<GstClock> clock = adopt(gst_system_clock_obtain());
    GstClockID id = gst_clock_new_single_shot_id(
        clock.get(), gst_clock_get_time(clock.get()) + static_cast<GstClockTime>(delay));
    if (state.tick)
        gst_clock_id_unref(state.tick);
    state.tick = id;
    gst_clock_id_wait_async(id, onTick, new StatePtr(shared), deleteState);
}

gboolean onTick(GstClock *, GstClockTime, GstClockID, gpointer data) noexcept
{
    const StatePtr &shared = *static_cast<StatePtr *>(data);
    auto &state = *shared;
    const Ns now = runningNow(state.src.get());
    std::lock_guard<std::mutex> lock(state.mutex);
    if (state.stopped)
        return TRUE;
    if (now >= 0) {
        const bool wasInGap = state.plan.inGap();
        const Ns end = state.plan.end();
        const auto frames = state.plan.tick(now);
        if (!wasInGap && state.plan.inGap())
            state.log.info(
                "no audio since %.3f s (now %.3f s): writing Opus silence until it returns",
                static_cast<double>(end) / 1e9, static_cast<double>(now) / 1e9);
        pushSilence(state, frames);
    }
    armTick(shared, now);
    return TRUE;
}

// Latency is the real stream's: ask upstream of the appsink (webrtcbin's jitterbuffer), as if
// the filler were not there.
GstPadProbeReturn forwardLatency(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (!query || GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
        return GST_PAD_PROBE_OK;
    return gst_pad_peer_query(static_cast<GstPad *>(data), query) ? GST_PAD_PROBE_HANDLED
                                                                  : GST_PAD_PROBE_OK;
}

} // namespace

GPtr<GstBuffer> AudioGapFiller::silencePacket(gint64 pts, gint64 duration, bool stereo)
{
    // TOC config 28..31: CELT-only fullband, 2.5 / 5 / 10 / 20 ms; code 0 (one frame).
    guint8 config = 31;
    if (duration <= 5 * AudioGapPlan::kMs / 2)
        config = 28;
    else if (duration <= 5 * AudioGapPlan::kMs)
        config = 29;
    else if (duration <= 10 * AudioGapPlan::kMs)
        config = 30;
    const guint8 bytes[3]
        = { static_cast<guint8>((config << 3) | (stereo ? 0x04 : 0x00)), 0xff, 0xfe };
    GPtr<GstBuffer> buffer = adopt(gst_buffer_new_memdup(bytes, sizeof bytes));
    GST_BUFFER_PTS(buffer.get()) = static_cast<GstClockTime>(pts);
    GST_BUFFER_DTS(buffer.get()) = static_cast<GstClockTime>(pts);
    GST_BUFFER_DURATION(buffer.get()) = static_cast<GstClockTime>(duration);
    return buffer;
}

std::unique_ptr<AudioGapFiller> AudioGapFiller::build(GstBin *bin, std::string &error)
{
    std::unique_ptr<AudioGapFiller> filler(new AudioGapFiller());
    if (!buildGapBranch(
            bin, static_cast<guint64>(4) << 20, "audio", filler->sink_, filler->src_, error))
        return nullptr;
    GstElement *sink = filler->sink_.get();
    GstElement *src = filler->src_.get();

    auto state = std::make_shared<State>();
    state->src = ref(src);
    filler->state_ = state;
    GstAppSinkCallbacks callbacks {};
    callbacks.eos = onEos;
    callbacks.new_sample = onSample;
    gst_app_sink_set_callbacks(
        GST_APP_SINK(sink), &callbacks, new std::shared_ptr<State>(state), deleteState);

    GPtr<GstPad> srcPad = adopt(gst_element_get_static_pad(src, "src"));
    GstPad *sinkPad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(srcPad.get(), GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, forwardLatency, sinkPad,
        [](gpointer pad) { gst_object_unref(pad); });

    std::lock_guard<std::mutex> lock(state->mutex);
    armTick(state, -1);
    return filler;
}

AudioGapFiller::~AudioGapFiller()
{
    if (!state_)
        return;
    // Under the mutex: a tick running now re-arms nothing once stopped is set.
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopped = true;
    if (state_->tick) {
        gst_clock_id_unschedule(state_->tick);
        gst_clock_id_unref(state_->tick);
        state_->tick = nullptr;
    }
}

} // namespace rc::gateway
