// Depayloader/parser chain per encoding name, the keyframe gate on video, and its tee branches;
// see stream_chain.h.
#include "gateway/media/stream_chain.h"

#include "common/gst/gst_helpers.h"
#include "gateway/media/audio_gap_filler.h"
#include "gateway/media/caps_guard.h"
#include "gateway/media/stream_linker.h"

#include <gst/video/video.h>

namespace rc::gateway {
namespace {

GstElement *makeElement(const std::string &factory, std::string &error)
{
    return rc::makeElement(factory.c_str(), nullptr, error);
}

bool addAndLink(GstBin *bin, const std::vector<GstElement *> &chain, std::string &error)
{
    for (GstElement *e : chain) {
        if (!gst_bin_add(bin, e)) {
            error = std::string("cannot add ") + GST_OBJECT_NAME(e);
            return false;
        }
    }
    for (size_t i = 1; i < chain.size(); ++i) {
        if (!gst_element_link(chain[i - 1], chain[i])) {
            error = std::string("cannot link ") + GST_OBJECT_NAME(chain[i - 1]) + " to "
                + GST_OBJECT_NAME(chain[i]);
            return false;
        }
    }
    return true;
}

} // namespace

StreamChain::StreamChain(GstBin *bin, MediaKind kind, std::string codec)
    : bin_(bin)
    , kind_(kind)
    , codec_(std::move(codec))
{ }

std::unique_ptr<StreamChain> StreamChain::build(
    GstBin *bin, MediaKind kind, const std::string &codec, std::string &error)
{
    const auto factories = StreamLinker::elementsFor(codec);
    if (factories.empty()) {
        error = "no depayloader for " + codec;
        return nullptr;
    }
    // Elements are created floating; gst_bin_add sinks them into the bin,
    // which owns them from then on (also on failure paths).
    std::vector<GstElement *> chain;
    for (const auto &f : factories) {
        GstElement *e = makeElement(f, error);
        if (!e) {
            for (GstElement *made : chain)
                gst_object_unref(gst_object_ref_sink(made));
            return nullptr;
        }
        chain.push_back(e);
    }
    GstElement *depay = chain.front();
    if (kind == MediaKind::video) {
        // Ask for a keyframe on packet loss, and drop the broken frames until it comes.
        setPropertyIfExists(depay, "request-keyframe", TRUE);
        setPropertyIfExists(depay, "wait-for-keyframe", TRUE);
        // SPS/PPS before every IDR: after a mid-stream change the muxers keep their first caps
        // (see CapsGuard), so the new parameter sets must travel in the stream itself.
        if (chain.size() > 1)
            setPropertyIfExists(chain[1], "config-interval", -1);
    }
    GstElement *tee = makeElement("tee", error);
    if (!tee) {
        for (GstElement *made : chain)
            gst_object_unref(gst_object_ref_sink(made));
        return nullptr;
    }
    // Outputs come and go at run time; with none attached the stream is
    // simply dropped here (and webrtcbin never sees not-linked).
    g_object_set(tee, "allow-not-linked", TRUE, nullptr);
    chain.push_back(tee);
    if (!addAndLink(bin, chain, error))
        return nullptr;

    std::unique_ptr<StreamChain> result(new StreamChain(bin, kind, codec));
    result->sink_ = adopt(gst_element_get_static_pad(depay, "sink"));
    result->tee_ = ref(tee);
    if (kind == MediaKind::video) {
        GPtr<GstPad> parsedSrc = adopt(gst_element_get_static_pad(chain[chain.size() - 2], "src"));
        result->gate_ = std::make_shared<KeyframeGate>();
        KeyframeGate::install(parsedSrc.get(), result->gate_);
        // After the gate: the guard starts holding caps back once data reaches the consumers.
        CapsGuard::install(parsedSrc.get(), std::make_shared<CapsGuard>());
    }
    // Audio gaps become Opus silence in front of the tee: every output gets the same timeline.
    if (kind == MediaKind::audio && codec == "OPUS") {
        GPtr<GstPad> parsedSrc = adopt(gst_element_get_static_pad(chain[chain.size() - 2], "src"));
        result->filler_ = AudioGapFiller::install(parsedSrc.get());
    }
    // Downstream first, so nothing pushes into an element that is not ready.
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        gst_element_sync_state_with_parent(*it);
    return result;
}

namespace {

// Until linkBranch: a tee pad that feeds its consumer directly carries no buffers before the
// consumer is linked and ready. Installed before the consumer's own probes (see
// ParticipantOutput's feed probe), so a dropped buffer never reaches them.
GstPadProbeReturn dropUntilLinked(GstPad *, GstPadProbeInfo *, gpointer) noexcept
{
    return GST_PAD_PROBE_DROP;
}

} // namespace

GstPad *StreamChain::addBranch(
    bool leaky, std::string &error, bool blackVideoGaps, bool consumerQueues)
{
    Branch branch;
    if (blackVideoGaps && kind_ == MediaKind::video) {
        branch.filler = VideoGapFiller::build(bin_, error);
        if (!branch.filler)
            return nullptr;
    }
    const auto dropFiller = [this, &branch] {
        if (!branch.filler)
            return;
        gst_bin_remove(bin_, branch.filler->output());
        gst_bin_remove(bin_, branch.filler->input());
    };
    // The filler's appsrc has its own thread and a bounded, leaky queue; a leaky branch (a
    // network consumer) keeps its queue's short limits behind it.
    const bool needQueue = leaky || (!branch.filler && !consumerQueues);
    if (needQueue) {
        GstElement *queue = makeElement("queue", error);
        if (!queue) {
            dropFiller();
            return nullptr;
        }
        if (leaky)
            gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
        if (!gst_bin_add(bin_, queue)) {
            error = "cannot add a tee branch";
            dropFiller();
            return nullptr;
        }
        if (branch.filler && !gst_element_link(branch.filler->output(), queue)) {
            error = "cannot link the video gap filler";
            gst_bin_remove(bin_, queue);
            dropFiller();
            return nullptr;
        }
        branch.queue = ref(queue);
        branch.src = adopt(gst_element_get_static_pad(queue, "src"));
    } else if (branch.filler) {
        branch.src = adopt(gst_element_get_static_pad(branch.filler->output(), "src"));
    } else {
        // The tee pad is the branch: requested now (the consumer links to it), carrying
        // buffers from linkBranch on.
        branch.teePad = adopt(gst_element_request_pad_simple(tee_.get(), "src_%u"));
        if (!branch.teePad) {
            error = "cannot add a tee branch";
            return nullptr;
        }
        branch.gate = gst_pad_add_probe(branch.teePad.get(),
            static_cast<GstPadProbeType>(
                GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
            dropUntilLinked, nullptr, nullptr);
        branch.src = ref(branch.teePad.get());
    }
    GstPad *src = branch.src.get();
    branches_.push_back(std::move(branch));
    return src;
}

bool StreamChain::linkBranch(GstPad *src, std::string &error)
{
    for (auto &b : branches_) {
        if (b.src.get() != src)
            continue;
        if (b.gate) {
            // Straight from the tee: the consumer is linked and ready, let buffers through.
            gst_pad_remove_probe(b.teePad.get(), b.gate);
            b.gate = 0;
            return true;
        }
        // Playing before the tee can push into it: on a running chain, a
        // buffer meeting a queue still in NULL returns FLUSHING, which tee
        // passes upstream and which stops the jitterbuffer's task for good
        // (the participant's media ends).
        if (b.queue)
            gst_element_sync_state_with_parent(b.queue.get());
        if (b.filler) {
            gst_element_sync_state_with_parent(b.filler->output());
            gst_element_sync_state_with_parent(b.filler->input());
        }
        b.teePad = adopt(gst_element_request_pad_simple(tee_.get(), "src_%u"));
        GPtr<GstPad> branchSink = adopt(
            gst_element_get_static_pad(b.filler ? b.filler->input() : b.queue.get(), "sink"));
        if (!b.teePad || gst_pad_link(b.teePad.get(), branchSink.get()) != GST_PAD_LINK_OK) {
            error = "cannot link a tee branch";
            return false;
        }
        return true;
    }
    error = "no such tee branch";
    return false;
}

void StreamChain::removeBranch(GstPad *src)
{
    for (auto it = branches_.begin(); it != branches_.end(); ++it) {
        if (it->src.get() != src)
            continue;
        // tee marks a released pad as removed, so a push in flight on it is
        // not counted against the other branches.
        if (it->teePad) {
            if (it->gate)
                gst_pad_remove_probe(it->teePad.get(), it->gate);
            gst_element_release_request_pad(tee_.get(), it->teePad.get());
        }
        if (GPtr<GstPad> peer = adopt(gst_pad_get_peer(it->src.get())))
            gst_pad_unlink(it->src.get(), peer.get());
        if (it->queue) {
            gst_element_set_state(it->queue.get(), GST_STATE_NULL);
            gst_bin_remove(bin_, it->queue.get());
        }
        if (it->filler) {
            for (GstElement *e : { it->filler->output(), it->filler->input() }) {
                gst_element_set_state(e, GST_STATE_NULL);
                gst_bin_remove(bin_, e);
            }
        }
        branches_.erase(it);
        return;
    }
}

void StreamChain::requestKeyframe() const
{
    if (!sink_)
        return;
    // all-headers: ask for parameter sets too, so an H264 file can start there.
    GstEvent *event = gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0);
    if (!gst_pad_push_event(sink_.get(), event))
        log_.debug("keyframe request for %s found no taker", codec_.c_str());
}

} // namespace rc::gateway
