// Opus silence across audio gaps, in real time, in line on the parser's pad; see
// audio_gap_filler.h.
#include "gateway/media/audio_gap_filler.h"

#include "gateway/media/audio_gap_plan.h"
#include "gateway/media/opus_packet.h"

#include <algorithm>
#include <atomic>
#include <mutex>

namespace rc::gateway {

struct AudioGapFiller::State
{
    GPtr<GstPad> pad; // the parser's src pad: what the filler fills
    GPtr<GstElement> element; // its element: the clock, and the job's thread pool
    std::atomic<bool> stopped { false }; // the filler is gone: nothing more is pushed or armed

    std::mutex mutex; // guards the plan and the stream's state, and is held while pushing
    AudioGapPlan plan;
    GstSegment segment {};
    bool hasSegment = false;
    bool stereo = false; // code silence as stereo: the caps until a real packet, then its TOC
    bool ended = false; // EOS went by

    std::mutex timerMutex; // guards the two below; never held while pushing
    GstClockID tick = nullptr; // the one-shot timer armed now, if any
    bool jobPending = false; // a silence job is posted and has not re-armed the timer yet

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

void deleteState(gpointer data) noexcept
{
    delete static_cast<StatePtr *>(data);
}

// Called with state.mutex held: the frames, dated in the stream's segment, straight into peer.
void pushSilence(
    AudioGapFiller::State &state, GstPad *peer, const std::vector<AudioGapPlan::Frame> &frames)
{
    if (!peer || !state.hasSegment)
        return;
    for (const auto &f : frames) {
        const guint64 at = gst_segment_position_from_running_time(
            &state.segment, GST_FORMAT_TIME, static_cast<guint64>(f.pts));
        if (!GST_CLOCK_TIME_IS_VALID(at))
            continue;
        GPtr<GstBuffer> b
            = AudioGapFiller::silencePacket(static_cast<gint64>(at), f.duration, state.stereo);
        // A flow error is the output's business (its entry pads swallow them); not ours.
        gst_pad_chain(peer, b.release());
    }
}

gboolean onTimer(GstClock *, GstClockTime, GstClockID, gpointer data) noexcept;

// Called with state.timerMutex held: a one-shot timer delay ns from now, on the system clock.
void armTimer(const StatePtr &shared, Ns delay)
{
    auto &state = *shared;
    GPtr<GstClock> clock = adopt(gst_system_clock_obtain());
    GstClockID id = gst_clock_new_single_shot_id(
        clock.get(), gst_clock_get_time(clock.get()) + static_cast<GstClockTime>(delay));
    if (state.tick)
        gst_clock_id_unref(state.tick);
    state.tick = id;
    gst_clock_id_wait_async(id, onTimer, new StatePtr(shared), deleteState);
}

// On GStreamer's thread pool: the silence due now, then the timer for the next time the plan
// can have any (one wake-up per startAfter while the stream flows, every 20 ms in a gap).
void silenceJob(GstElement *, gpointer data) noexcept
{
    const StatePtr &shared = *static_cast<StatePtr *>(data);
    auto &state = *shared;
    if (state.stopped.load(std::memory_order_acquire))
        return;
    const Ns now = runningNow(state.element.get());
    Ns next = -1;
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        if (now >= 0 && !state.ended) {
            const bool wasInGap = state.plan.inGap();
            const Ns end = state.plan.end();
            const auto frames = state.plan.tick(now);
            if (!wasInGap && state.plan.inGap())
                state.log.info(
                    "no audio since %.3f s (now %.3f s): writing Opus silence until it returns",
                    static_cast<double>(end) / 1e9, static_cast<double>(now) / 1e9);
            if (!frames.empty()) {
                GPtr<GstPad> peer = adopt(gst_pad_get_peer(state.pad.get()));
                pushSilence(state, peer.get(), frames);
            }
        }
        if (now >= 0)
            next = state.plan.nextTick(now);
    }
    std::lock_guard<std::mutex> lock(state.timerMutex);
    state.jobPending = false;
    if (!state.stopped.load(std::memory_order_acquire))
        armTimer(shared, next >= 0 ? std::clamp(next - now, kMinDelay, 10 * kPoll) : kPoll);
}

// The clock's thread only posts the job: a push may block, and this thread serves every
// participant's timer.
gboolean onTimer(GstClock *, GstClockTime, GstClockID, gpointer data) noexcept
{
    const StatePtr &shared = *static_cast<StatePtr *>(data);
    auto &state = *shared;
    std::lock_guard<std::mutex> lock(state.timerMutex);
    if (state.stopped.load(std::memory_order_acquire) || state.jobPending)
        return TRUE;
    state.jobPending = true;
    gst_element_call_async(state.element.get(), silenceJob, new StatePtr(shared), deleteState);
    return TRUE;
}

// On the streaming thread: events update what the silence needs; a real packet goes to the tee
// from here, after the silence the plan puts before it, both under the mutex.
GstPadProbeReturn onData(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
{
    auto &state = **static_cast<StatePtr *>(data);
    if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
        std::lock_guard<std::mutex> lock(state.mutex);
        switch (GST_EVENT_TYPE(event)) {
        case GST_EVENT_CAPS: {
            GstCaps *caps = nullptr;
            gst_event_parse_caps(event, &caps);
            gint channels = 1;
            const GstStructure *s = caps ? gst_caps_get_structure(caps, 0) : nullptr;
            if (s)
                gst_structure_get_int(s, "channels", &channels);
            state.stereo = channels == 2;
            break;
        }
        case GST_EVENT_SEGMENT: {
            const GstSegment *segment = nullptr;
            gst_event_parse_segment(event, &segment);
            state.hasSegment = segment->format == GST_FORMAT_TIME;
            if (state.hasSegment)
                gst_segment_copy_into(segment, &state.segment);
            break;
        }
        case GST_EVENT_EOS:
            state.ended = true;
            break;
        case GST_EVENT_STREAM_START:
            state.ended = false;
            break;
        default:
            break;
        }
        return GST_PAD_PROBE_OK;
    }
    if (!(info->type & GST_PAD_PROBE_TYPE_BUFFER))
        return GST_PAD_PROBE_OK; // a list (opusparse pushes none) passes untouched
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    GPtr<GstPad> peer = adopt(gst_pad_get_peer(pad));
    if (!buffer || !peer)
        return GST_PAD_PROBE_OK;
    const Ns arrival0 = runningNow(state.element.get());

    // Silence is coded like the real packets (the caps say stereo for every browser; most send
    // mono): a decoder never switches layout at a gap.
    const int channels = opusPacketChannels(buffer);

    std::lock_guard<std::mutex> lock(state.mutex);
    if (channels)
        state.stereo = channels == 2;
    // The filler's times are running times; the buffers keep the stream's segment.
    Ns pts = -1;
    if (GST_BUFFER_PTS_IS_VALID(buffer) && state.hasSegment) {
        const guint64 running
            = gst_segment_to_running_time(&state.segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
        if (GST_CLOCK_TIME_IS_VALID(running))
            pts = static_cast<Ns>(running);
    }
    const Ns duration
        = GST_BUFFER_DURATION_IS_VALID(buffer) ? static_cast<Ns>(GST_BUFFER_DURATION(buffer)) : 0;
    const Ns arrival = arrival0 >= 0 ? arrival0 : pts;
    const bool wasInGap = state.plan.inGap();
    const AudioGapPlan::Decision d = state.plan.real(pts, duration, arrival);
    pushSilence(state, peer.get(), d.silenceBefore);
    if (wasInGap && d.pass)
        state.log.info("audio resumed at %.3f s after a gap: %.0f ms of Opus silence written "
                       "(packet PTS %.3f s, arrived at %.3f s)",
            static_cast<double>(d.pts) / 1e9, static_cast<double>(d.gapEnded) / 1e6,
            static_cast<double>(pts) / 1e9, static_cast<double>(arrival) / 1e9);
    if (!d.pass) {
        state.log.debug("audio packet at %.3f s dropped: silence already covers it",
            static_cast<double>(pts) / 1e9);
        return GST_PAD_PROBE_DROP;
    }
    GST_PAD_PROBE_INFO_DATA(info) = nullptr;
    if (pts >= 0 && d.pts != pts) {
        const guint64 at = gst_segment_position_from_running_time(
            &state.segment, GST_FORMAT_TIME, static_cast<guint64>(d.pts));
        if (GST_CLOCK_TIME_IS_VALID(at)) {
            buffer = gst_buffer_make_writable(buffer);
            GST_BUFFER_PTS(buffer) = at;
            GST_BUFFER_DTS(buffer) = at;
        }
    }
    // Pushed here, under the mutex, so that no silence can overtake it. Never an error
    // upstream: a FLUSHING returned to the jitterbuffer stops its task for good (see
    // StreamChain::linkBranch).
    gst_pad_chain(peer.get(), buffer);
    return GST_PAD_PROBE_HANDLED;
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

std::unique_ptr<AudioGapFiller> AudioGapFiller::install(GstPad *pad)
{
    std::unique_ptr<AudioGapFiller> filler(new AudioGapFiller());
    auto state = std::make_shared<State>();
    state->pad = ref(pad);
    state->element = adopt(gst_pad_get_parent_element(pad));
    gst_segment_init(&state->segment, GST_FORMAT_TIME);
    filler->state_ = state;
    filler->pad_ = ref(pad);
    filler->probe_ = gst_pad_add_probe(pad,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST
            | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
        onData, new StatePtr(state), deleteState);
    std::lock_guard<std::mutex> lock(state->timerMutex);
    armTimer(state, kPoll);
    return filler;
}

AudioGapFiller::~AudioGapFiller()
{
    if (!state_)
        return;
    state_->stopped.store(true, std::memory_order_release);
    if (probe_)
        gst_pad_remove_probe(pad_.get(), probe_);
    std::lock_guard<std::mutex> lock(state_->timerMutex);
    if (state_->tick) {
        gst_clock_id_unschedule(state_->tick);
        gst_clock_id_unref(state_->tick);
        state_->tick = nullptr;
    }
}

} // namespace rc::gateway
