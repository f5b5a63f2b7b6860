// Depayloader/parser chains per RTP encoding name, keyframe gate, fan-out and fakesinks; see
// stream_linker.h.
#include "gateway/media/stream_linker.h"

#include "common/base/log.h"
#include "common/gst/gst_helpers.h"

#include <gst/video/video.h>

namespace rc::gateway {
namespace {

GstElement *makeElement(const std::string &factory, std::string &error)
{
    return rc::makeElement(factory.c_str(), nullptr, error);
}

// Drops video buffers until the first one that is not a delta unit.
GstPadProbeReturn keyframeGateProbe(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    auto *gate = static_cast<std::shared_ptr<KeyframeGate> *>(data)->get();
    if (gate->open.load(std::memory_order_acquire))
        return GST_PAD_PROBE_OK;
    GstBuffer *buffer = nullptr;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
        buffer = gst_buffer_list_length(list) ? gst_buffer_list_get(list, 0) : nullptr;
    }
    if (!buffer)
        return GST_PAD_PROBE_OK;
    // Not HEADER: h264parse flags an IDR access unit that carries SPS/PPS as a header.
    if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)
        || GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_CORRUPTED)) {
        gate->dropped.fetch_add(1, std::memory_order_relaxed);
        return GST_PAD_PROBE_DROP;
    }
    gate->open.store(true, std::memory_order_release);
    RC_LOG_DEBUG("gateway: keyframe gate open after %u dropped buffer(s): %zu bytes, flags 0x%x, "
                 "pts %" GST_TIME_FORMAT,
        gate->dropped.load(std::memory_order_relaxed), gst_buffer_get_size(buffer),
        GST_BUFFER_FLAGS(buffer), GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
    return GST_PAD_PROBE_OK;
}

void deleteGate(gpointer data) noexcept
{
    delete static_cast<std::shared_ptr<KeyframeGate> *>(data);
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

std::vector<std::string> StreamLinker::elementsFor(const std::string &encodingName)
{
    if (encodingName == "VP8")
        return { "rtpvp8depay" };
    if (encodingName == "VP9")
        return { "rtpvp9depay" };
    if (encodingName == "H264")
        return { "rtph264depay", "h264parse" };
    if (encodingName == "AV1")
        return { "rtpav1depay", "av1parse" };
    if (encodingName == "OPUS")
        return { "rtpopusdepay", "opusparse" };
    return {};
}

RequiredElements StreamLinker::requiredElements()
{
    return { { "fakesink", "gstreamer core" }, { "tee", "gstreamer core" },
        { "queue", "gstreamer core" } };
}

bool StreamLinker::canDepayload(const std::string &encodingName)
{
    const auto factories = elementsFor(encodingName);
    if (factories.empty())
        return false;
    for (const auto &name : factories) {
        GstElementFactory *f = gst_element_factory_find(name.c_str());
        if (!f)
            return false;
        gst_object_unref(f);
    }
    return true;
}

std::optional<StreamChain> StreamLinker::build(
    GstBin *bin, MediaKind kind, const std::string &codec, std::string &error)
{
    const auto factories = elementsFor(codec);
    if (factories.empty()) {
        error = "no depayloader for " + codec;
        return std::nullopt;
    }
    // Elements are created floating; gst_bin_add sinks them into the bin,
    // which owns them from then on (also on failure paths).
    std::vector<GstElement *> chain;
    for (const auto &f : factories) {
        GstElement *e = makeElement(f, error);
        if (!e) {
            for (GstElement *made : chain)
                gst_object_unref(gst_object_ref_sink(made));
            return std::nullopt;
        }
        chain.push_back(e);
    }
    GstElement *depay = chain.front();
    if (kind == MediaKind::video) {
        // Ask for a keyframe on packet loss, and drop the broken frames until it comes.
        setPropertyIfExists(depay, "request-keyframe", TRUE);
        setPropertyIfExists(depay, "wait-for-keyframe", TRUE);
    }
    GstElement *tee = makeElement("tee", error);
    if (!tee) {
        for (GstElement *made : chain)
            gst_object_unref(gst_object_ref_sink(made));
        return std::nullopt;
    }
    // Outputs come and go at run time; with none attached the stream is
    // simply dropped here (and webrtcbin never sees not-linked).
    g_object_set(tee, "allow-not-linked", TRUE, nullptr);
    chain.push_back(tee);
    if (!addAndLink(bin, chain, error))
        return std::nullopt;

    StreamChain result;
    result.kind = kind;
    result.codec = codec;
    result.sink = adopt(gst_element_get_static_pad(depay, "sink"));
    result.tee = ref(tee);
    GPtr<GstPad> parsedSrc = adopt(gst_element_get_static_pad(chain[chain.size() - 2], "src"));
    if (kind == MediaKind::video) {
        result.gate = std::make_shared<KeyframeGate>();
        gst_pad_add_probe(parsedSrc.get(),
            static_cast<GstPadProbeType>(
                GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
            keyframeGateProbe, new std::shared_ptr<KeyframeGate>(result.gate), deleteGate);
    }
    // Downstream first, so nothing pushes into an element that is not ready.
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        gst_element_sync_state_with_parent(*it);
    return result;
}

GstPad *StreamLinker::addBranch(GstBin *bin, StreamChain &chain, bool leaky, std::string &error)
{
    GstElement *queue = makeElement("queue", error);
    if (!queue)
        return nullptr;
    if (leaky)
        gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
    if (!gst_bin_add(bin, queue)) {
        error = "cannot add a tee branch";
        return nullptr;
    }
    StreamBranch branch;
    branch.queue = ref(queue);
    branch.src = adopt(gst_element_get_static_pad(queue, "src"));
    GstPad *src = branch.src.get();
    chain.branches.push_back(std::move(branch));
    return src;
}

bool StreamLinker::linkBranch(StreamChain &chain, GstPad *src, std::string &error)
{
    for (auto &b : chain.branches) {
        if (b.src.get() != src)
            continue;
        // Playing before the tee can push into it: on a running chain, a
        // buffer meeting a queue still in NULL returns FLUSHING, which tee
        // passes upstream and which stops the jitterbuffer's task for good
        // (the participant's media ends).
        gst_element_sync_state_with_parent(b.queue.get());
        b.teePad = adopt(gst_element_request_pad_simple(chain.tee.get(), "src_%u"));
        GPtr<GstPad> queueSink = adopt(gst_element_get_static_pad(b.queue.get(), "sink"));
        if (!b.teePad || gst_pad_link(b.teePad.get(), queueSink.get()) != GST_PAD_LINK_OK) {
            error = "cannot link a tee branch";
            return false;
        }
        return true;
    }
    error = "no such tee branch";
    return false;
}

void StreamLinker::removeBranch(GstBin *bin, StreamChain &chain, GstPad *src)
{
    for (auto it = chain.branches.begin(); it != chain.branches.end(); ++it) {
        if (it->src.get() != src)
            continue;
        // tee marks a released pad as removed, so a push in flight on it is
        // not counted against the other branches.
        if (it->teePad)
            gst_element_release_request_pad(chain.tee.get(), it->teePad.get());
        if (GPtr<GstPad> peer = adopt(gst_pad_get_peer(it->src.get())))
            gst_pad_unlink(it->src.get(), peer.get());
        gst_element_set_state(it->queue.get(), GST_STATE_NULL);
        gst_bin_remove(bin, it->queue.get());
        chain.branches.erase(it);
        return;
    }
}

bool StreamLinker::linkToFakesink(GstBin *bin, GstPad *pad, std::string &error)
{
    GstElement *sink = makeElement("fakesink", error);
    if (!sink)
        return false;
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    if (!gst_bin_add(bin, sink)) {
        error = "cannot add a fakesink";
        return false;
    }
    gst_element_sync_state_with_parent(sink);
    GPtr<GstPad> sinkPad = adopt(gst_element_get_static_pad(sink, "sink"));
    if (gst_pad_link(pad, sinkPad.get()) != GST_PAD_LINK_OK) {
        error = "cannot link to a fakesink";
        return false;
    }
    return true;
}

bool StreamLinker::describePad(const GstCaps *caps, MediaKind &kind, std::string &codec)
{
    const GstStructure *s
        = caps && gst_caps_get_size(caps) > 0 ? gst_caps_get_structure(caps, 0) : nullptr;
    const char *media = s ? gst_structure_get_string(s, "media") : nullptr;
    const char *encoding = s ? gst_structure_get_string(s, "encoding-name") : nullptr;
    if (!media || !encoding)
        return false;
    kind = g_str_equal(media, "video") ? MediaKind::video : MediaKind::audio;
    codec = encoding;
    for (auto &c : codec)
        c = static_cast<char>(g_ascii_toupper(c));
    return true;
}

void StreamLinker::requestKeyframe(const StreamChain &chain)
{
    if (!chain.sink)
        return;
    // all-headers: ask for parameter sets too, so an H264 file can start there.
    GstEvent *event = gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0);
    if (!gst_pad_push_event(chain.sink.get(), event))
        RC_LOG_DEBUG("gateway: keyframe request for %s found no taker", chain.codec.c_str());
}

} // namespace rc::gateway
