// What the gateway knows about a webrtcbin receive pad before building its StreamChain: the
// elements each RTP encoding name needs, what a pad carries, and the fakesink for a pad the
// gateway cannot take.
//
// StreamLinker is a set of functions without state, called on the gateway's main context
// (while the webrtcbin pad is blocked, for the pad functions).
#pragma once

#include "common/gst/gst_ptr.h"
#include "common/gst/required_elements.h"
#include "gateway/media/media_kind.h"

#include <string>
#include <vector>

namespace rc::gateway {

class StreamLinker
{
public:
    // The element factories for an encoding name: {depayloader[, parser]};
    // empty if the gateway cannot take that codec.
    static std::vector<std::string> elementsFor(const std::string &encodingName);
    // Whether every element for that encoding name is installed (GStreamer
    // 1.22's C plugins have no AV1 depayloader, for one).
    static bool canDepayload(const std::string &encodingName);
    // What build() and the branches make whatever the codec (tee, queue, fakesink).
    static RequiredElements requiredElements();

    // Terminates pad in a new fakesink in bin: an unlinked webrtcbin pad
    // would fail the whole session with not-linked.
    static bool linkToFakesink(GstBin *bin, GstPad *pad, std::string &error);

    // Reads a new webrtcbin pad's RTP caps: kind and upper-case encoding
    // name. False when they are not RTP caps.
    static bool describePad(const GstCaps *caps, MediaKind &kind, std::string &codec);
};

} // namespace rc::gateway
