// Black keyframes across video gaps, in real time, for one output; see video_gap_filler.h.
#include "gateway/media/video_gap_filler.h"

#include "common/gst/gst_helpers.h"
#include "gateway/media/gap_branch.h"
#include "gateway/media/video_gap_keyframe.h"
#include "gateway/media/video_gap_plan.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include <mutex>
#include <vector>

namespace rc::gateway {

struct VideoGapFiller::State
{
    std::mutex mutex; // guards everything below
    VideoGapPlan plan;
    GPtr<GstElement> src; // the appsrc: both threads push here, under mutex
    GPtr<GstPad> upstream; // the appsink's sink pad: keyframe requests leave here
    GPtr<GstCaps> caps; // the last caps given to src
    unsigned generation = 0; // counts caps changes: an encoding for older caps is dropped
    std::string spec; // what the black keyframes are (for logs), "" while none
    std::vector<GPtr<GstBuffer>> black; // encoded for caps; empty until ready
    rc::log::Logger log { "gateway" };
};

namespace {

using Ns = VideoGapPlan::Ns;
using StatePtr = std::shared_ptr<VideoGapFiller::State>;
// Often enough that a gap is noticed within a tenth of a second of startAfter.
constexpr Ns kTick = 100 * VideoGapPlan::kMs;

double seconds(Ns ns)
{
    return static_cast<double>(ns) / 1e9;
}

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

Ns runningTime(const GstSegment *segment, GstClockTime ts)
{
    if (!GST_CLOCK_TIME_IS_VALID(ts) || !segment || segment->format != GST_FORMAT_TIME)
        return -1;
    const guint64 running = gst_segment_to_running_time(segment, GST_FORMAT_TIME, ts);
    return GST_CLOCK_TIME_IS_VALID(running) ? static_cast<Ns>(running) : -1;
}

void requestKeyframe(GstPad *upstream)
{
    // all-headers: H.264 must come back with its SPS/PPS, which the black IDR replaced.
    gst_pad_push_event(
        upstream, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

// Called with state.mutex held.
void pushBlack(VideoGapFiller::State &state, const std::vector<VideoGapPlan::Frame> &frames)
{
    for (const auto &f : frames) {
        GstBuffer *b = gst_buffer_copy(state.black[f.index % state.black.size()].get());
        GST_BUFFER_PTS(b) = static_cast<GstClockTime>(f.pts);
        GST_BUFFER_DTS(b) = static_cast<GstClockTime>(f.pts);
        GST_BUFFER_DURATION(b) = static_cast<GstClockTime>(f.duration);
        GST_BUFFER_FLAG_UNSET(b, GST_BUFFER_FLAG_DELTA_UNIT);
        // Not blocking (block=FALSE): a stalled muxer must not stall the clock thread.
        gst_app_src_push_buffer(GST_APP_SRC(state.src.get()), b);
    }
}

struct EncodeJob
{
    StatePtr state;
    BlackKeyframes::Spec spec;
    unsigned generation = 0;
};

// On GStreamer's thread pool: encoding takes tens of milliseconds, too long for a streaming or
// clock thread.
void encodeJob(GstElement *, gpointer data) noexcept
{
    auto *job = static_cast<EncodeJob *>(data);
    std::string error;
    std::vector<GPtr<GstBuffer>> frames = BlackKeyframes::encode(job->spec, error);
    auto &state = *job->state;
    std::lock_guard<std::mutex> lock(state.mutex);
    if (job->generation != state.generation)
        return; // the caps changed meanwhile; a newer job runs
    const std::string name = BlackKeyframes::name(job->spec);
    if (frames.empty()) {
        state.log.warn("cannot encode a black keyframe (%s): %s; this output holds the last "
                       "frame in video gaps instead",
            name.c_str(), error.c_str());
        return;
    }
    size_t bytes = 0;
    for (const auto &f : frames)
        bytes += gst_buffer_get_size(f.get());
    state.log.debug("black keyframe ready for video gaps: %s, %zu frame(s), %zu bytes",
        name.c_str(), frames.size(), bytes);
    state.black = std::move(frames);
    state.spec = name;
}

void deleteEncodeJob(gpointer data) noexcept
{
    delete static_cast<EncodeJob *>(data);
}

// Called with state.mutex held: new caps for src, and black keyframes to match them.
void takeCaps(const StatePtr &shared, GstCaps *caps)
{
    auto &state = *shared;
    state.caps = adopt(gst_caps_ref(caps));
    gst_app_src_set_caps(GST_APP_SRC(state.src.get()), caps);
    state.black.clear();
    state.spec.clear();
    ++state.generation;
    BlackKeyframes::Spec spec;
    std::string error;
    if (!BlackKeyframes::describe(caps, spec, error)) {
        state.log.warn("no black keyframe for video gaps: %s; this output holds the last frame "
                       "instead",
            error.c_str());
        return;
    }
    gst_element_call_async(state.src.get(), encodeJob,
        new EncodeJob { shared, spec, state.generation }, deleteEncodeJob);
}

GstFlowReturn onSample(GstAppSink *sink, gpointer data) noexcept
{
    const StatePtr &shared = *static_cast<StatePtr *>(data);
    auto &state = *shared;
    GPtr<GstSample> sample = adopt(gst_app_sink_pull_sample(sink));
    if (!sample)
        return GST_FLOW_OK;
    GstBuffer *buffer = gst_sample_get_buffer(sample.get());
    if (!buffer)
        return GST_FLOW_OK;
    GstCaps *caps = gst_sample_get_caps(sample.get());
    const GstSegment *segment = gst_sample_get_segment(sample.get());
    // appsrc's segment starts at 0: PTS out is the running time in.
    const Ns pts = runningTime(segment, GST_BUFFER_PTS(buffer));
    const Ns dts = runningTime(segment, GST_BUFFER_DTS(buffer));
    const Ns duration
        = GST_BUFFER_DURATION_IS_VALID(buffer) ? static_cast<Ns>(GST_BUFFER_DURATION(buffer)) : 0;
    const bool keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    Ns arrival = runningNow(GST_ELEMENT(sink));
    if (arrival < 0)
        arrival = pts;

    VideoGapPlan::Decision d;
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        if (caps && (!state.caps || !gst_caps_is_equal(caps, state.caps.get())))
            takeCaps(shared, caps);
        d = state.plan.real(pts, duration, keyframe, arrival);
        if (d.gapEnded && d.blackWritten > 0)
            state.log.info("video resumed at %.3f s at a keyframe after a gap: %u black "
                           "keyframe(s) written from %.3f s, %u frame(s) dropped waiting",
                seconds(pts), d.blackWritten, seconds(d.gapStart), state.plan.realDropped());
        if (d.pass) {
            GstBuffer *out = gst_buffer_make_writable(gst_buffer_ref(buffer));
            if (pts >= 0) {
                GST_BUFFER_PTS(out) = static_cast<GstClockTime>(pts);
                GST_BUFFER_DTS(out) = static_cast<GstClockTime>(dts >= 0 ? dts : pts);
            }
            // Never an error upstream: a FLUSHING returned to the jitterbuffer stops its task
            // for good (see StreamChain::linkBranch); while stopping, appsrc drops what comes.
            gst_app_src_push_buffer(GST_APP_SRC(state.src.get()), out);
        }
    }
    // Outside the mutex: the event travels upstream through the chain synchronously.
    if (d.requestKeyframe) {
        state.log.debug(
            "video frame at %.3f s dropped after black: asking for a keyframe", seconds(pts));
        requestKeyframe(state.upstream.get());
    }
    return GST_FLOW_OK;
}

void onEos(GstAppSink *, gpointer data) noexcept
{
    auto &state = **static_cast<StatePtr *>(data);
    std::lock_guard<std::mutex> lock(state.mutex);
    gst_app_src_end_of_stream(GST_APP_SRC(state.src.get()));
}

gboolean onTick(GstClock *, GstClockTime, GstClockID, gpointer data) noexcept
{
    auto &state = **static_cast<StatePtr *>(data);
    const Ns now = runningNow(state.src.get());
    if (now < 0)
        return TRUE;
    std::lock_guard<std::mutex> lock(state.mutex);
    const bool wasInGap = state.plan.inGap();
    const Ns end = state.plan.end();
    const auto frames = state.plan.tick(now, !state.black.empty());
    if (!wasInGap && state.plan.inGap()) {
        if (state.black.empty())
            state.log.info("no video since %.3f s (now %.3f s), no black keyframe ready: "
                           "holding the last frame",
                seconds(end), seconds(now));
        else
            state.log.info("no video since %.3f s (now %.3f s): black keyframes (%s) until a "
                           "keyframe returns",
                seconds(end), seconds(now), state.spec.c_str());
    }
    pushBlack(state, frames);
    return TRUE;
}

void deleteState(gpointer data) noexcept
{
    delete static_cast<StatePtr *>(data);
}

// Latency is the real stream's: ask upstream of the appsink (webrtcbin's jitterbuffer), as if
// the filler were not there.
GstPadProbeReturn forwardUpstreamQuery(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (!query || GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
        return GST_PAD_PROBE_OK;
    return gst_pad_peer_query(static_cast<GstPad *>(data), query) ? GST_PAD_PROBE_HANDLED
                                                                  : GST_PAD_PROBE_OK;
}

// Caps are the output's to choose (h264parse converts to the stream-format its muxer takes):
// answer from what follows the appsrc, as if the filler were not there.
GstPadProbeReturn forwardDownstreamQuery(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (!query
        || (GST_QUERY_TYPE(query) != GST_QUERY_CAPS
            && GST_QUERY_TYPE(query) != GST_QUERY_ACCEPT_CAPS))
        return GST_PAD_PROBE_OK;
    return gst_pad_peer_query(static_cast<GstPad *>(data), query) ? GST_PAD_PROBE_HANDLED
                                                                  : GST_PAD_PROBE_OK;
}

// The output's keyframe requests (a feed waiting for a keyframe) go on to the sender; appsrc
// would swallow them.
GstPadProbeReturn forwardKeyframeRequest(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (!event || !gst_video_event_is_force_key_unit(event))
        return GST_PAD_PROBE_OK;
    GST_PAD_PROBE_INFO_DATA(info) = nullptr;
    gst_pad_push_event(static_cast<GstPad *>(data), event);
    return GST_PAD_PROBE_HANDLED;
}

void unrefPad(gpointer pad) noexcept
{
    gst_object_unref(pad);
}

} // namespace

std::unique_ptr<VideoGapFiller> VideoGapFiller::build(GstBin *bin, std::string &error)
{
    std::unique_ptr<VideoGapFiller> filler(new VideoGapFiller());
    if (!buildGapBranch(
            bin, static_cast<guint64>(32) << 20, "video", filler->sink_, filler->src_, error))
        return nullptr;
    GstElement *sink = filler->sink_.get();
    GstElement *src = filler->src_.get();

    GPtr<GstPad> srcPad = adopt(gst_element_get_static_pad(src, "src"));
    GPtr<GstPad> sinkPad = adopt(gst_element_get_static_pad(sink, "sink"));
    auto state = std::make_shared<State>();
    state->src = ref(src);
    state->upstream = ref(sinkPad.get());
    filler->state_ = state;
    GstAppSinkCallbacks callbacks {};
    callbacks.eos = onEos;
    callbacks.new_sample = onSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, new StatePtr(state), deleteState);

    auto addProbe
        = [&filler](GstPad *pad, GstPadProbeType type, GstPadProbeCallback cb, GstPad *other) {
              gulong id = gst_pad_add_probe(pad, type, cb, gst_object_ref(other), unrefPad);
              filler->probes_.push_back({ ref(pad), id });
          };
    addProbe(srcPad.get(), GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, forwardUpstreamQuery, sinkPad.get());
    addProbe(
        srcPad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, forwardKeyframeRequest, sinkPad.get());
    addProbe(
        sinkPad.get(), GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, forwardDownstreamQuery, srcPad.get());

    GPtr<GstClock> clock = adopt(gst_system_clock_obtain());
    filler->tick_
        = gst_clock_new_periodic_id(clock.get(), gst_clock_get_time(clock.get()) + kTick, kTick);
    gst_clock_id_wait_async(filler->tick_, onTick, new StatePtr(state), deleteState);
    return filler;
}

VideoGapFiller::~VideoGapFiller()
{
    // Without this the two pads keep each other alive after their elements are gone.
    for (const Probe &p : probes_)
        gst_pad_remove_probe(p.pad.get(), p.id);
    if (tick_) {
        gst_clock_id_unschedule(tick_);
        gst_clock_id_unref(tick_);
    }
}

} // namespace rc::gateway
