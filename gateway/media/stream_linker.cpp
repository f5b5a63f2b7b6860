// Elements per RTP encoding name, pad description and fakesinks; see stream_linker.h.
#include "gateway/media/stream_linker.h"

#include "common/gst/gst_helpers.h"

namespace rc::gateway {
namespace {

GstElement *makeElement(const std::string &factory, std::string &error)
{
    return rc::makeElement(factory.c_str(), nullptr, error);
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

} // namespace rc::gateway
