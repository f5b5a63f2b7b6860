// A template instance per participant: feed probes, common time base, EOS bookkeeping; see
// participant_output.h.
#include "gateway/output/participant_output.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/gst/gst_helpers.h"
#include "gateway/output/source_channels.h"
#include "gateway/output/track_start.h"
#include "gateway/templates/template_instance.h"

#include <gst/video/video.h>

#include <sys/stat.h>

#include <atomic>
#include <mutex>

namespace rc::gateway {

// Shared between the main context and the feed probes (streaming threads).
struct ParticipantOutput::Timing
{
    GMainContext *context = nullptr;
    WeakSelf<ParticipantOutput>::Ref owner;
    rc::log::Logger log { "gateway" }; // the probes' lines
    std::atomic<bool> closing { false };
    std::atomic<bool> paused { false }; // setPaused: the probes drop every buffer
    // The muxer starts every track at 0 (see track_start.h): the first video frame is dated
    // back to the file's t=0, an audio packet straddling it forward. Set before any feed is
    // linked, read-only after.
    bool tracksFromZero = false;
    std::mutex mutex; // guards the fields below
    bool hasBase = false;
    GstClockTime base = 0; // running time of the first buffer of any feed
    GstClockTime maxEnd = 0; // latest buffer end, relative to base
    std::atomic<uint64_t> bytes { 0 };
};

struct ParticipantOutput::FeedProbe
{
    std::shared_ptr<Timing> timing;
    bool video = false;
    // Only touched by this pad's streaming thread:
    bool offsetSet = false;
    // Video drops deltas until the next keyframe: from the start (an output
    // attached to a running stream joins it mid-GOP) and after a dropped buffer.
    bool needKeyframe = false;
    GstClockTime last = GST_CLOCK_TIME_NONE; // running time of the last buffer let through
    // Running time of the last keyframe request while waiting for one: a request (PLI) can be
    // lost or ignored, so it is repeated every kKeyframeRetry until a keyframe comes.
    GstClockTime lastRequest = GST_CLOCK_TIME_NONE;
    unsigned traced = 0; // ditto: buffers logged at debug level
};

void ParticipantOutput::deleteFeedProbe(gpointer data) noexcept
{
    delete static_cast<FeedProbe *>(data);
}

namespace {

// How long a feed waiting for a keyframe waits before asking again.
constexpr GstClockTime kKeyframeRetry = 500 * GST_MSECOND;
// Half of the 20 ms Opus packet WebRTC senders use, for a packet that states no duration.
constexpr GstClockTime kHalfOpusFrame = 10 * GST_MSECOND;

// Applies move (dateBackTo or dateForwardTo) to the probe's buffer, made writable, in pad's
// segment; false when it did not move it (or the probe carries a list).
template <typename Move>
bool retimeBuffer(GstPad *pad, GstPadProbeInfo *info, GstBuffer *&buffer, Move move)
{
    if (!(info->type & GST_PAD_PROBE_TYPE_BUFFER))
        return false;
    GPtr<GstEvent> event = adopt(gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0));
    if (!event)
        return false;
    const GstSegment *segment = nullptr;
    gst_event_parse_segment(event.get(), &segment);
    buffer = gst_buffer_make_writable(buffer);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    return move(buffer, *segment);
}

GstClockTime runningTimeOf(GstPad *pad, GstBuffer *buffer)
{
    GstClockTime ts
        = GST_BUFFER_PTS_IS_VALID(buffer) ? GST_BUFFER_PTS(buffer) : GST_BUFFER_DTS(buffer);
    if (!GST_CLOCK_TIME_IS_VALID(ts))
        return GST_CLOCK_TIME_NONE;
    GPtr<GstEvent> event = adopt(gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0));
    if (!event)
        return GST_CLOCK_TIME_NONE;
    const GstSegment *segment = nullptr;
    gst_event_parse_segment(event.get(), &segment);
    if (segment->format != GST_FORMAT_TIME)
        return GST_CLOCK_TIME_NONE;
    return gst_segment_to_running_time(segment, GST_FORMAT_TIME, ts);
}

} // namespace

// The first buffer of any feed fixes the output's time base: every feed's pad
// gets offset -base, so the file starts at 0 whatever time negotiation took,
// and audio and video keep their relative timing.
GstPadProbeReturn ParticipantOutput::feedProbe(
    GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
{
    auto *probe = static_cast<FeedProbe *>(data);
    auto &timing = *probe->timing;
    if (timing.closing.load(std::memory_order_acquire)) {
        // After finalizing began only our own EOS may reach the muxer.
        return GST_PAD_PROBE_DROP;
    }
    if (!(info->type & (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST)))
        return GST_PAD_PROBE_OK;
    if (timing.paused.load(std::memory_order_acquire)) {
        // setPaused(false) asks for a keyframe; until it comes deltas are dropped below.
        if (probe->video) {
            probe->needKeyframe = true;
            probe->lastRequest = GST_CLOCK_TIME_NONE;
        }
        return GST_PAD_PROBE_DROP;
    }
    GstBuffer *buffer = nullptr;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    } else {
        GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
        guint n = gst_buffer_list_length(list);
        buffer = n ? gst_buffer_list_get(list, n - 1) : nullptr;
    }
    if (!buffer)
        return GST_PAD_PROBE_OK;
    GstClockTime running = runningTimeOf(pad, buffer);
    if (probe->traced < 6) {
        ++probe->traced;
        timing.log.debug("feed %s:%s buffer pts %" GST_TIME_FORMAT " dts %" GST_TIME_FORMAT
                         " running %" GST_TIME_FORMAT " flags 0x%x",
            GST_DEBUG_PAD_NAME(pad), GST_TIME_ARGS(GST_BUFFER_PTS(buffer)),
            GST_TIME_ARGS(GST_BUFFER_DTS(buffer)), GST_TIME_ARGS(running),
            GST_BUFFER_FLAGS(buffer));
    }
    // A buffer that cannot be placed in time, or that goes back in time (a
    // sender's stall and burst can produce both), is not recordable: mp4mux
    // fails the whole file on one. Video then resumes at its next keyframe,
    // so the file never holds a frame whose references are missing.
    const bool untimed = !GST_CLOCK_TIME_IS_VALID(running);
    if (untimed || (GST_CLOCK_TIME_IS_VALID(probe->last) && running < probe->last)) {
        if (!(info->type & GST_PAD_PROBE_TYPE_BUFFER))
            return GST_PAD_PROBE_OK;
        timing.log.debug("feed %s:%s: dropping a buffer %s (%zu bytes, flags 0x%x)",
            GST_DEBUG_PAD_NAME(pad), untimed ? "without timestamp" : "going back in time",
            gst_buffer_get_size(buffer), GST_BUFFER_FLAGS(buffer));
        if (probe->video && !probe->needKeyframe) {
            probe->needKeyframe = true;
            gst_pad_send_event(
                pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
        }
        return GST_PAD_PROBE_DROP;
    }

    // Before the time base: a delta frame that is dropped must not fix the file's t=0.
    if (probe->video && probe->needKeyframe
        && GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
        // Whoever set needKeyframe asked once already: count from the first drop.
        if (!GST_CLOCK_TIME_IS_VALID(probe->lastRequest) || running < probe->lastRequest) {
            probe->lastRequest = running;
        } else if (running - probe->lastRequest >= kKeyframeRetry) {
            probe->lastRequest = running;
            gst_pad_send_event(
                pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
        }
        return GST_PAD_PROBE_DROP;
    }
    bool first = false;
    {
        std::lock_guard<std::mutex> lock(timing.mutex);
        if (!timing.hasBase) {
            timing.hasBase = true;
            timing.base = running;
            first = true;
        } else if (running < timing.base && !probe->video && !probe->offsetSet
            && timing.tracksFromZero
            && retimeBuffer(pad, info, buffer, [&](GstBuffer *b, const GstSegment &segment) {
                   // The audio packet that straddles t=0 is kept when less than half of it lies
                   // before: every sound is then at most half a packet late, where dropping it
                   // (the track starts at 0 all the same) makes every sound early by the rest.
                   const GstClockTime half = GST_BUFFER_DURATION_IS_VALID(b)
                       ? GST_BUFFER_DURATION(b) / 2
                       : kHalfOpusFrame;
                   return dateForwardTo(b, segment, timing.base, half);
               })) {
            timing.log.info("audio starts %.1f ms before the file: its first packet is dated "
                            "forward to the start (the muxer starts every track at 0)",
                static_cast<double>(timing.base - running) / GST_MSECOND);
            running = timing.base;
        } else if (running < timing.base) {
            // Older than the file's t=0 (this feed was linked a little after
            // another one): it would get a negative time, which mp4mux
            // rejects outright. Video then resumes at its next keyframe.
            if (probe->video && !probe->needKeyframe) {
                probe->needKeyframe = true;
                gst_pad_send_event(
                    pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
            }
            return GST_PAD_PROBE_DROP;
        }
        if (probe->needKeyframe) {
            if (probe->video && GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT))
                return GST_PAD_PROBE_DROP;
            probe->needKeyframe = false;
            probe->lastRequest = GST_CLOCK_TIME_NONE;
        }
        if (!probe->offsetSet && probe->video && timing.tracksFromZero && running > timing.base
            && retimeBuffer(pad, info, buffer, [&](GstBuffer *b, const GstSegment &segment) {
                   return dateBackTo(b, segment, timing.base);
               })) {
            timing.log.info("video starts %.0f ms after the file: its first frame is shown "
                            "from the start (the muxer starts every track at 0)",
                static_cast<double>(running - timing.base) / GST_MSECOND);
            running = timing.base;
        }
        probe->last = running;
        if (!probe->offsetSet) {
            // Re-sends the sticky segment with the offset before this buffer.
            gst_pad_set_offset(pad, -static_cast<gint64>(timing.base));
            probe->offsetSet = true;
        }
        timing.bytes.fetch_add(gst_buffer_get_size(buffer), std::memory_order_relaxed);
        GstClockTime end = running;
        if (GST_BUFFER_DURATION_IS_VALID(buffer))
            end += GST_BUFFER_DURATION(buffer);
        if (end > timing.base && end - timing.base > timing.maxEnd)
            timing.maxEnd = end - timing.base;
    }
    if (first) {
        // The file's t=0 is this buffer's running time, which may lie in the
        // past (the pad was held until linked, the jitterbuffer waited): date
        // the start from the pipeline clock, not from now.
        auto at = std::chrono::system_clock::now();
        GPtr<GstElement> element = adopt(gst_pad_get_parent_element(pad));
        GPtr<GstClock> clock = element ? adopt(gst_element_get_clock(element.get())) : nullptr;
        if (clock) {
            const GstClockTime mediaAt = gst_element_get_base_time(element.get()) + running;
            const GstClockTime now = gst_clock_get_time(clock.get());
            if (now > mediaAt)
                at -= std::chrono::nanoseconds(now - mediaAt);
        }
        // The output announces its start on the main context (the manifest lives there).
        timing.owner.post(
            timing.context, [at](ParticipantOutput &self) { self.onFirstBuffer(at); });
    }
    return GST_PAD_PROBE_OK;
}

namespace {

// An output's entry pads never pass a failure upstream: a network sink that
// lost its server (or a bin being set to NULL while detached) would
// otherwise return ERROR/FLUSHING through the tee to the depayloader and stop
// the participant's other outputs. The element's own ERROR message still
// reaches the bus, where the receiver decides what it means.
GPtr<GstPad> entryPad(GstElement *bin, const char *name)
{
    GPtr<GstPad> pad = adopt(gst_element_get_static_pad(bin, name));
    if (pad)
        swallowFlowErrors(pad.get());
    return pad;
}

// The ghost pad's target is a queue's sink pad.
bool targetIsQueue(GstPad *ghost)
{
    if (!ghost || !GST_IS_GHOST_PAD(ghost))
        return false;
    GPtr<GstPad> target = adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(ghost)));
    GPtr<GstElement> element = target ? adopt(gst_pad_get_parent_element(target.get())) : nullptr;
    GstElementFactory *factory = element ? gst_element_get_factory(element.get()) : nullptr;
    return factory
        && g_str_equal(gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(factory)), "queue");
}

} // namespace

std::unique_ptr<ParticipantOutput> ParticipantOutput::create(GMainContext *context,
    const PipelineTemplate &tpl, const TemplateVariables &vars,
    const std::map<std::string, std::string> &params, const std::string &outputPath,
    std::string &error)
{
    auto instance = instantiateTemplate(tpl, vars, params, outputPath, "", error);
    if (!instance)
        return nullptr;
    std::unique_ptr<ParticipantOutput> out(
        new ParticipantOutput(context, tpl, std::move(instance->bin), instance->outputPath));
    out->url_ = instance->url;
    if (instance->hasVideo)
        out->video_.pad = entryPad(out->bin_.get(), "video");
    if (instance->hasAudio)
        out->audio_.pad = entryPad(out->bin_.get(), "audio");
    out->video_.queues = targetIsQueue(out->video_.pad.get());
    out->audio_.queues = targetIsQueue(out->audio_.pad.get());
    out->timing_->tracksFromZero = startsEachTrackAtZero(out->bin_.get());
    return out;
}

uint64_t ParticipantOutput::bytesIn() const noexcept
{
    return timing_->bytes.load(std::memory_order_relaxed);
}

ParticipantOutput::ParticipantOutput(
    GMainContext *context, PipelineTemplate tpl, GPtr<GstElement> bin, std::string outputPath)
    : context_(context)
    , tpl_(std::move(tpl))
    , bin_(std::move(bin))
    , outputPath_(std::move(outputPath))
    , timing_(std::make_shared<Timing>())
{
    timing_->context = context_;
    timing_->owner = self_.ref();
}

ParticipantOutput::~ParticipantOutput()
{
    self_.invalidate();
}

bool ParticipantOutput::takes(MediaKind kind, const std::string &codec) const
{
    const Entry &e = entry(kind);
    if (disabled_ || !e.pad || e.fed || e.ended)
        return false;
    return kind == MediaKind::video ? tpl_.acceptsVideoCodec(codec) : tpl_.acceptsAudioCodec(codec);
}

bool ParticipantOutput::connectFeed(
    MediaKind kind, GstPad *src, const std::string &codec, std::string &error)
{
    Entry &e = entry(kind);
    if (!takes(kind, codec)) {
        error = tpl_.name + " does not take " + codec;
        return false;
    }
    gst_pad_add_probe(src,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST
            | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
        feedProbe,
        new FeedProbe { timing_, kind == MediaKind::video, false, kind == MediaKind::video },
        deleteFeedProbe);
    // Before the link: the first packet may come the moment it is made.
    if (kind == MediaKind::audio && codec == "OPUS")
        followSourceChannels(bin_.get(), e.pad.get());
    GstPadLinkReturn ret = gst_pad_link(src, e.pad.get());
    if (ret != GST_PAD_LINK_OK) {
        error = std::string("cannot link ") + mediaKindName(kind) + " into " + tpl_.name + ": "
            + gst_pad_link_get_name(ret);
        return false;
    }
    e.fed = true;
    e.codec = codec;
    e.src = ref(src);
    return true;
}

void ParticipantOutput::expectCodec(MediaKind kind, const std::string &codec)
{
    Entry &e = entry(kind);
    if (!e.pad || e.fed || e.ended)
        return;
    const bool accepted = !codec.empty()
        && (kind == MediaKind::video ? tpl_.acceptsVideoCodec(codec)
                                     : tpl_.acceptsAudioCodec(codec));
    if (accepted) {
        e.codec = codec;
        return;
    }
    e.codec.clear();
    if (!codec.empty()) {
        // A file that silently lacks a stream the participant does send would
        // mislead: this template is not used for this participant at all.
        // A stream has no path: name the output instead.
        log_.info("%s: template %s does not take %s; not using it for this participant",
            (outputPath_.empty() ? outputId_ : outputPath_).c_str(), tpl_.name.c_str(),
            codec.c_str());
        disabled_ = true;
        sendEos(video_);
        sendEos(audio_);
        return;
    }
    log_.info("%s gets no %s stream; ending that entry", outputPath_.c_str(), mediaKindName(kind));
    sendEos(e);
}

const std::string &ParticipantOutput::codec(MediaKind kind) const noexcept
{
    return entry(kind).codec;
}

namespace {
struct EosJob
{
    GPtr<GstPad> pad;
};
void sendEosJob(GstElement *, gpointer data) noexcept
{
    auto *job = static_cast<EosJob *>(data);
    gst_pad_send_event(job->pad.get(), gst_event_new_eos());
}
void deleteEosJob(gpointer data) noexcept
{
    delete static_cast<EosJob *>(data);
}
} // namespace

void ParticipantOutput::sendEos(Entry &e)
{
    if (!e.pad || e.ended)
        return;
    e.ended = true;
    gst_element_call_async(bin_.get(), sendEosJob, new EosJob { ref(e.pad.get()) }, deleteEosJob);
}

void ParticipantOutput::beginFinalize()
{
    timing_->closing.store(true, std::memory_order_release);
    sendEos(video_);
    sendEos(audio_);
}

void ParticipantOutput::stopFeeding() noexcept
{
    timing_->closing.store(true, std::memory_order_release);
}

void ParticipantOutput::setPaused(bool paused)
{
    if (timing_->paused.exchange(paused, std::memory_order_acq_rel) == paused || paused)
        return;
    // The file goes on at the sender's next keyframe: ask now rather than wait a GOP.
    if (video_.src)
        gst_pad_send_event(video_.src.get(),
            gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

bool ParticipantOutput::paused() const noexcept
{
    return timing_->paused.load(std::memory_order_acquire);
}

bool ParticipantOutput::finalizing() const noexcept
{
    return timing_->closing.load(std::memory_order_acquire);
}

bool ParticipantOutput::started() const noexcept
{
    std::lock_guard<std::mutex> lock(timing_->mutex);
    return timing_->hasBase;
}

double ParticipantOutput::durationSeconds() const
{
    std::lock_guard<std::mutex> lock(timing_->mutex);
    return static_cast<double>(timing_->maxEnd) / GST_SECOND;
}

uint64_t ParticipantOutput::fileBytes() const
{
    struct stat st
    {
    };
    if (outputPath_.empty() || ::stat(outputPath_.c_str(), &st) != 0)
        return 0;
    return static_cast<uint64_t>(st.st_size);
}

void ParticipantOutput::endStarvedEntries(std::chrono::milliseconds grace)
{
    if (!startedAtUs_ || g_get_monotonic_time() - startedAtUs_ < grace.count() * 1000)
        return;
    for (MediaKind kind : { MediaKind::video, MediaKind::audio }) {
        Entry &e = entry(kind);
        if (!e.pad || e.fed || e.ended)
            continue;
        log_.warn("%s: no %s arrived %lld ms after the first media; recording without it",
            outputPath_.c_str(), mediaKindName(kind), static_cast<long long>(grace.count()));
        sendEos(e);
    }
}

void ParticipantOutput::noteError(GstMessage *message)
{
    if (outputPath_.empty() || GST_MESSAGE_TYPE(message) != GST_MESSAGE_ERROR)
        return; // a network sink's write error is its server's, not a disk's
    const std::optional<BusProblem> problem = readBusProblem(message);
    if (!problem)
        return;
    const OutputFault fault = classifyOutputError(*problem);
    // The first fault is the cause; later ones are its echoes (the muxer's "not-negotiated").
    if (fault_ == OutputFault::other)
        fault_ = fault;
}

void ParticipantOutput::onFirstBuffer(std::chrono::system_clock::time_point at)
{
    startedAtUs_ = g_get_monotonic_time();
    if (onStarted_)
        onStarted_(at);
}

} // namespace rc::gateway
