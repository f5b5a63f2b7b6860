// Depayloads and parses one of webrtcbin's receive pads by its RTP encoding name, gates video on
// its first keyframe, and fans it out to the outputs that take it (or to a fakesink).
//
// StreamLinker is a set of functions called on the gateway's main context
// while the webrtcbin pad is blocked; the keyframe gate it installs runs on
// the streaming thread and shares only a KeyframeGate (atomics) with the
// main context. A StreamChain is owned by the PeerReceiver that built it.
#pragma once

#include "gst_ptr.h"
#include "sdp_tuning.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace rc::gateway {

class ParticipantOutput;

// Whether a video stream has delivered its first keyframe yet (until then
// every buffer is dropped, so the first frame on disk is a keyframe).
struct KeyframeGate
{
    std::atomic<bool> open { false };
    std::atomic<unsigned> dropped { 0 };
};

// The elements built for one webrtcbin pad.
struct StreamChain
{
    MediaKind kind = MediaKind::audio;
    std::string codec; // RTP encoding name, upper case
    GPtr<GstPad> sink; // the depayloader's sink pad: link webrtcbin's pad here
    std::vector<GPtr<GstPad>> branches; // one src pad per requested branch, unlinked
    std::shared_ptr<KeyframeGate> gate; // video only
};

class StreamLinker
{
public:
    // The element factories for an encoding name: {depayloader[, parser]};
    // empty if the gateway cannot take that codec.
    static std::vector<std::string> elementsFor(const std::string &encodingName);
    // Whether every element for that encoding name is installed (GStreamer
    // 1.22's C plugins have no AV1 depayloader, for one).
    static bool canDepayload(const std::string &encodingName);

    // Builds depayloader ! parser [! tee ! queue x branches] in bin, with the
    // keyframe gate on video, and brings the new elements to the bin's
    // state. branches >= 1. Returns nullopt with error on failure (the
    // elements already added are left to the pipeline's teardown).
    static std::optional<StreamChain> build(
        GstBin *bin, MediaKind kind, const std::string &codec, size_t branches, std::string &error);

    // Terminates pad in a new fakesink in bin: an unlinked webrtcbin pad
    // would fail the whole session with not-linked.
    static bool linkToFakesink(GstBin *bin, GstPad *pad, std::string &error);

    struct Linked
    {
        bool ok = true; // false: linking failed (the pad went to a fakesink)
        std::optional<StreamChain> chain; // nullopt: nothing takes it (fakesink) or failure
        std::string message; // what happened, for the log
    };
    // Links one new webrtcbin pad (blocked, unlinked) by its RTP caps: to a
    // chain feeding every output that takes its codec, or to a fakesink when
    // none does (or when outputs is empty: the receiver is closing).
    static Linked linkPad(GstBin *bin, GstPad *pad, const GstCaps *caps,
        const std::vector<ParticipantOutput *> &outputs);

    // Asks the sender for a keyframe: an upstream force-key-unit event,
    // which webrtcbin's RTP session turns into a PLI (or FIR).
    static void requestKeyframe(const StreamChain &chain);
};

} // namespace rc::gateway
