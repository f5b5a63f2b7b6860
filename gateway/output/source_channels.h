// A template's `capsfilter name=audio-channels` follows how many channels the participant really
// codes: browsers declare their Opus as stereo (RFC 7587's "opus/48000/2") but send mono unless
// the answer asked for stereo, which the gateway's offer does not. A template that transcodes
// (rtmp-passthrough: Opus -> AAC) would otherwise encode every voice as two identical channels,
// at a quarter more encoder time, for nothing.
//
// The first Opus packet that reaches the output's audio entry decides (its TOC's s bit, see
// media/opus_packet.h), before anything is decoded: the capsfilter's caps get `channels` set to
// 1 or 2, so the encoder behind it is set up once, for that. The decoder has negotiated the
// declared channels by then (its caps event comes before the first packet), so the template puts
// a converter (audioconvert) between the decoder and the capsfilter: it renegotiates and
// downmixes. A source that switches later (a stereo publisher's mono packets, or the reverse) is
// converted, never renegotiated.
//
// No owner: a one-shot probe on the entry pad holds a reference to the capsfilter and removes
// itself after that first packet. The probe runs on the streaming thread bringing the packet
// and only sets the capsfilter's property (thread-safe; nothing downstream is negotiated yet).
#pragma once

#include "common/gst/gst_ptr.h"
#include "gateway/templates/template_instance.h"

#include <gst/gst.h>

namespace rc::gateway {

// Installs the probe on entry (the output's audio ghost sink pad, borrowed) when bin (borrowed)
// has a capsfilter named kAudioChannelsElement; false when it has none.
bool followSourceChannels(GstElement *bin, GstPad *entry);

// caps with every structure's "channels" set to channels (ANY or empty: audio/x-raw with it).
GPtr<GstCaps> capsWithChannels(const GstCaps *caps, int channels);

} // namespace rc::gateway
