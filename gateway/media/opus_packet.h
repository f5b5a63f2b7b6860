// What an Opus packet's first byte (the TOC, RFC 6716 section 3.1) says about how it was coded.
//
// The RTP caps do not tell how many channels a sender really codes: Chrome and Firefox declare
// "opus/48000/2" (RFC 7587 requires it) and send mono unless the answer asked for stereo, and
// sprop-stereo is optional. Each packet's TOC carries the truth in its s bit. Pure functions;
// any thread.
#pragma once

#include <gst/gst.h>

#include <cstddef>
#include <cstdint>

namespace rc::gateway {

// 2 when the packet is coded stereo, 1 when mono, 0 for an empty packet (no TOC).
int opusPacketChannels(const uint8_t *data, std::size_t size) noexcept;
// The same for a packet in a buffer (borrowed; only its first byte is read).
int opusPacketChannels(GstBuffer *packet) noexcept;

} // namespace rc::gateway
