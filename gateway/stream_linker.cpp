// Depayloader/parser chains per RTP encoding name, keyframe gate, fan-out and fakesinks; see
// stream_linker.h.
#include "stream_linker.h"

#include "log.h"
#include "participant_output.h"

#include <gst/video/video.h>

namespace rc::gateway {
namespace {

GstElement *makeElement(const std::string &factory, std::string &error)
{
    GstElement *e = gst_element_factory_make(factory.c_str(), nullptr);
    if (!e)
        error = "GStreamer element '" + factory + "' is not installed";
    return e;
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
    GstBin *bin, MediaKind kind, const std::string &codec, size_t branches, std::string &error)
{
    const auto factories = elementsFor(codec);
    if (factories.empty() || branches == 0) {
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
        if (g_object_class_find_property(G_OBJECT_GET_CLASS(depay), "request-keyframe"))
            g_object_set(depay, "request-keyframe", TRUE, nullptr);
        if (g_object_class_find_property(G_OBJECT_GET_CLASS(depay), "wait-for-keyframe"))
            g_object_set(depay, "wait-for-keyframe", TRUE, nullptr);
    }
    GstElement *tee = nullptr;
    std::vector<GstElement *> queues;
    if (branches > 1) {
        tee = makeElement("tee", error);
        if (!tee)
            return std::nullopt;
        // Branches are added below; a tee with no linked branch would fail with not-linked.
        g_object_set(tee, "allow-not-linked", TRUE, nullptr);
        chain.push_back(tee);
    }
    if (!addAndLink(bin, chain, error))
        return std::nullopt;

    StreamChain result;
    result.kind = kind;
    result.codec = codec;
    result.sink = adopt(gst_element_get_static_pad(depay, "sink"));
    GstElement *last = chain.back();
    GPtr<GstPad> parsedSrc
        = adopt(gst_element_get_static_pad(tee ? chain[chain.size() - 2] : last, "src"));

    if (kind == MediaKind::video) {
        result.gate = std::make_shared<KeyframeGate>();
        gst_pad_add_probe(parsedSrc.get(),
            static_cast<GstPadProbeType>(
                GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
            keyframeGateProbe, new std::shared_ptr<KeyframeGate>(result.gate), deleteGate);
    }

    if (!tee) {
        result.branches.push_back(std::move(parsedSrc));
    } else {
        for (size_t i = 0; i < branches; ++i) {
            GstElement *queue = makeElement("queue", error);
            if (!queue)
                return std::nullopt;
            if (!gst_bin_add(bin, queue) || !gst_element_link(tee, queue)) {
                error = "cannot link a tee branch";
                return std::nullopt;
            }
            queues.push_back(queue);
            result.branches.push_back(adopt(gst_element_get_static_pad(queue, "src")));
        }
    }
    // Downstream first, so nothing pushes into an element that is not ready.
    for (auto it = queues.rbegin(); it != queues.rend(); ++it)
        gst_element_sync_state_with_parent(*it);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        gst_element_sync_state_with_parent(*it);
    return result;
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

StreamLinker::Linked StreamLinker::linkPad(
    GstBin *bin, GstPad *pad, const GstCaps *caps, const std::vector<ParticipantOutput *> &outputs)
{
    Linked result;
    std::string error;
    const GstStructure *s
        = caps && gst_caps_get_size(caps) > 0 ? gst_caps_get_structure(caps, 0) : nullptr;
    const char *media = s ? gst_structure_get_string(s, "media") : nullptr;
    const char *encoding = s ? gst_structure_get_string(s, "encoding-name") : nullptr;
    if (!media || !encoding) {
        result.message = "a pad without RTP caps goes to a fakesink";
        if (!linkToFakesink(bin, pad, error))
            result = { false, std::nullopt, error };
        return result;
    }
    const MediaKind kind = g_str_equal(media, "video") ? MediaKind::video : MediaKind::audio;
    std::string codec(encoding);
    for (auto &c : codec)
        c = static_cast<char>(g_ascii_toupper(c));
    const std::string what = std::string(mediaKindName(kind)) + " " + codec;

    std::vector<ParticipantOutput *> targets;
    for (ParticipantOutput *output : outputs)
        if (output->takes(kind, codec))
            targets.push_back(output);
    if (targets.empty() || elementsFor(codec).empty()) {
        result.message = "no output takes " + what + "; discarding it";
        if (!linkToFakesink(bin, pad, error))
            result = { false, std::nullopt, error };
        return result;
    }
    auto chain = build(bin, kind, codec, targets.size(), error);
    bool ok = chain.has_value();
    for (size_t i = 0; ok && i < targets.size(); ++i)
        ok = targets[i]->connectFeed(kind, chain->branches[i].get(), codec, error);
    if (ok && gst_pad_link(pad, chain->sink.get()) != GST_PAD_LINK_OK) {
        error = "cannot link webrtcbin's pad to the " + codec + " depayloader";
        ok = false;
    }
    if (!ok) {
        std::string ignored;
        if (!gst_pad_is_linked(pad))
            linkToFakesink(bin, pad, ignored);
        return { false, std::nullopt, "cannot record " + what + ": " + error };
    }
    result.message = "recording " + what + " into " + std::to_string(targets.size()) + " output(s)";
    result.chain = std::move(chain);
    return result;
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
