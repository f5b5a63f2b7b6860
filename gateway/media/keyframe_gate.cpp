// The keyframe gate's decision and its pad probe; see keyframe_gate.h.
#include "gateway/media/keyframe_gate.h"

namespace rc::gateway {
namespace {

void deleteGate(gpointer data) noexcept
{
    delete static_cast<std::shared_ptr<KeyframeGate> *>(data);
}

} // namespace

bool KeyframeGate::admit(GstBuffer *buffer) noexcept
{
    if (open())
        return true;
    // Not HEADER: h264parse flags an IDR access unit that carries SPS/PPS as a header.
    if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)
        || GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_CORRUPTED)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    open_.store(true, std::memory_order_release);
    log_.debug("keyframe gate open after %u dropped buffer(s): %zu bytes, flags 0x%x, "
               "pts %" GST_TIME_FORMAT,
        dropped(), gst_buffer_get_size(buffer), GST_BUFFER_FLAGS(buffer),
        GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
    const gint64 connected = connectedUs_.load(std::memory_order_acquire);
    if (!label_.empty() && connected > 0 && !reported_.exchange(true))
        log_.info("first keyframe from %s %.1f ms after ICE connected", label_.c_str(),
            static_cast<double>(g_get_monotonic_time() - connected) / 1000.0);
    return true;
}

void KeyframeGate::rearm() noexcept
{
    open_.store(false, std::memory_order_release);
}

GstPadProbeReturn KeyframeGate::probe(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    KeyframeGate *gate = static_cast<std::shared_ptr<KeyframeGate> *>(data)->get();
    if (gate->open())
        return GST_PAD_PROBE_OK;
    GstBuffer *buffer = nullptr;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        // A list is judged by its first buffer and passes or goes whole.
        GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
        buffer = gst_buffer_list_length(list) ? gst_buffer_list_get(list, 0) : nullptr;
    }
    if (!buffer)
        return GST_PAD_PROBE_OK;
    return gate->admit(buffer) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

gulong KeyframeGate::install(GstPad *pad, std::shared_ptr<KeyframeGate> gate)
{
    return gst_pad_add_probe(pad,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        probe, new std::shared_ptr<KeyframeGate>(std::move(gate)), deleteGate);
}

} // namespace rc::gateway
