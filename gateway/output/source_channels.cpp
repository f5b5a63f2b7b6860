// The audio-channels capsfilter follows the source's coded channels; see source_channels.h.
#include "gateway/output/source_channels.h"

#include "common/base/log.h"
#include "gateway/media/opus_packet.h"

namespace rc::gateway {
namespace {

GstPadProbeReturn onFirstPacket(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
{
    GstBuffer *buffer = nullptr;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
        buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
        buffer = gst_buffer_list_get(GST_PAD_PROBE_INFO_BUFFER_LIST(info), 0);
    const int channels = opusPacketChannels(buffer);
    if (channels == 0)
        return GST_PAD_PROBE_OK; // none, or empty (a DTX gap marker): wait for one with a TOC
    auto *capsfilter = static_cast<GstElement *>(data);
    GstCaps *current = nullptr;
    g_object_get(capsfilter, "caps", &current, nullptr);
    GPtr<GstCaps> before = adopt(current);
    GPtr<GstCaps> after = capsWithChannels(before.get(), channels);
    g_object_set(capsfilter, "caps", after.get(), nullptr);
    GPtr<GstElement> output = adopt(gst_pad_get_parent_element(pad));
    rc::log::Logger("gateway").info("%s: the source codes %s Opus: audio-channels set to %d",
        output ? GST_OBJECT_NAME(output.get()) : "output", channels == 2 ? "stereo" : "mono",
        channels);
    return GST_PAD_PROBE_REMOVE;
}

void releaseCapsfilter(gpointer data) noexcept
{
    gst_object_unref(static_cast<GstElement *>(data));
}

} // namespace

GPtr<GstCaps> capsWithChannels(const GstCaps *caps, int channels)
{
    if (!caps || gst_caps_is_any(caps) || gst_caps_is_empty(caps))
        return adopt(gst_caps_new_simple("audio/x-raw", "channels", G_TYPE_INT, channels, nullptr));
    GPtr<GstCaps> out = adopt(gst_caps_copy(caps));
    for (guint i = 0; i < gst_caps_get_size(out.get()); ++i) {
        GstStructure *s = gst_caps_get_structure(out.get(), i);
        gst_structure_set(s, "channels", G_TYPE_INT, channels, nullptr);
        // A channel-mask for the other count would contradict it.
        gst_structure_remove_field(s, "channel-mask");
    }
    return out;
}

bool followSourceChannels(GstElement *bin, GstPad *entry)
{
    if (!GST_IS_BIN(bin) || !entry)
        return false;
    GPtr<GstElement> capsfilter = adopt(gst_bin_get_by_name(GST_BIN(bin), kAudioChannelsElement));
    if (!capsfilter)
        return false;
    // The probe owns the reference taken by gst_bin_get_by_name (released with the probe).
    gst_pad_add_probe(entry,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        onFirstPacket, capsfilter.release(), releaseCapsfilter);
    return true;
}

} // namespace rc::gateway
