// Receive-side fakesinks and frame counting; see receive_counter.h.
#include "testpeer/receive_counter.h"

#include "common/base/log.h"
#include "testpeer/element_factory.h"

#include <gst/rtp/rtp.h>

#include <cstring>

namespace rc::testpeer {
namespace {

struct ProbeData
{
    std::shared_ptr<ReceiveCounter::Counts> counts;
    bool video;
};

bool markerOf(GstBuffer *buffer) noexcept
{
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp))
        return false;
    bool marker = gst_rtp_buffer_get_marker(&rtp);
    gst_rtp_buffer_unmap(&rtp);
    return marker;
}

GstPadProbeReturn countProbe(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    auto *d = static_cast<ProbeData *>(data);
    auto count = [d](GstBuffer *b) {
        if (!d->video)
            d->counts->audioPackets.fetch_add(1, std::memory_order_relaxed);
        else if (markerOf(b))
            d->counts->videoFrames.fetch_add(1, std::memory_order_relaxed);
    };
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
        count(GST_PAD_PROBE_INFO_BUFFER(info));
    } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
        for (guint i = 0; i < gst_buffer_list_length(list); ++i)
            count(gst_buffer_list_get(list, i));
    }
    return GST_PAD_PROBE_OK;
}

void freeProbeData(gpointer data) noexcept
{
    delete static_cast<ProbeData *>(data);
}

} // namespace

bool padCarriesVideo(GstPad *pad) noexcept
{
    GPtr<GstCaps> caps(gst_pad_get_current_caps(pad));
    if (!caps || gst_caps_is_empty(caps.get()))
        return false;
    const char *media = gst_structure_get_string(gst_caps_get_structure(caps.get(), 0), "media");
    return media && std::strcmp(media, "video") == 0;
}

ReceiveCounter::ReceiveCounter(GstBin *bin)
    : bin_(bin)
    , counts_(std::make_shared<Counts>())
{ }

ReceiveCounter::~ReceiveCounter()
{
    for (auto &p : probes_)
        gst_pad_remove_probe(p.pad.get(), p.id);
}

void ReceiveCounter::attach(GstPad *pad, gulong blockProbe, bool video)
{
    GstElement *sink = tryMakeElement("fakesink");
    if (!sink) {
        gst_pad_remove_probe(pad, blockProbe);
        return;
    }
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add(bin_, sink);
    GPtr<GstPad> sinkPad(gst_element_get_static_pad(sink, "sink"));
    gulong id = gst_pad_add_probe(pad,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        countProbe, new ProbeData { counts_, video }, freeProbeData);
    probes_.push_back({ ref(pad), id });
    if (gst_pad_link(pad, sinkPad.get()) != GST_PAD_LINK_OK)
        RC_LOG_WARN("cannot link received %s stream to a sink", video ? "video" : "audio");
    gst_element_sync_state_with_parent(sink);
    gst_pad_remove_probe(pad, blockProbe);
}

} // namespace rc::testpeer
