// Opus TOC parsing; see opus_packet.h.
#include "gateway/media/opus_packet.h"

namespace rc::gateway {

int opusPacketChannels(const uint8_t *data, std::size_t size) noexcept
{
    if (!data || size == 0)
        return 0;
    // TOC: config (5 bits) | s (1 bit: stereo) | c (2 bits: frame count code).
    return (data[0] & 0x04) ? 2 : 1;
}

int opusPacketChannels(GstBuffer *packet) noexcept
{
    guint8 toc = 0;
    return packet && gst_buffer_extract(packet, 0, &toc, 1) == 1 ? opusPacketChannels(&toc, 1) : 0;
}

} // namespace rc::gateway
