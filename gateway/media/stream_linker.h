// Depayloads and parses one of webrtcbin's receive pads by its RTP encoding name, gates video on
// its first keyframe, and ends in a tee whose branches (a queue each) are added and removed
// while the stream runs; a pad the gateway cannot take goes to a fakesink.
//
// StreamLinker is a set of functions called on the gateway's main context
// while the webrtcbin pad is blocked; the keyframe gate it installs runs on
// the streaming thread and shares only a KeyframeGate (atomics) with the
// main context. A StreamChain is owned by the PeerReceiver that built it.
#pragma once

#include "common/gst/gst_ptr.h"
#include "common/gst/required_elements.h"
#include "gateway/media/media_kind.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

// Whether a video stream has delivered its first keyframe yet (until then
// every buffer is dropped, so the first frame on disk is a keyframe).
struct KeyframeGate
{
    std::atomic<bool> open { false };
    std::atomic<unsigned> dropped { 0 };
};

// One branch requested from a chain's tee: tee pad -> queue -> (a consumer).
struct StreamBranch
{
    GPtr<GstPad> teePad; // the tee's request pad
    GPtr<GstElement> queue;
    GPtr<GstPad> src; // the queue's src pad: link the consumer here
};

// The elements built for one webrtcbin pad: depayloader ! parser ! tee. The
// tee always exists (allow-not-linked), so that outputs can be attached to
// and detached from a running stream.
struct StreamChain
{
    MediaKind kind = MediaKind::audio;
    std::string codec; // RTP encoding name, upper case
    GPtr<GstPad> sink; // the depayloader's sink pad: link webrtcbin's pad here
    GPtr<GstElement> tee;
    std::vector<StreamBranch> branches;
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
    // What build() and the branches make whatever the codec (tee, queue, fakesink).
    static RequiredElements requiredElements();

    // Builds depayloader ! parser ! tee in bin, with the keyframe gate on
    // video, and brings the new elements to the bin's state. Returns nullopt
    // with error on failure (the elements already added are left to the
    // pipeline's teardown).
    static std::optional<StreamChain> build(
        GstBin *bin, MediaKind kind, const std::string &codec, std::string &error);

    // A new tee branch: a queue, not yet fed, whose src pad (returned,
    // unlinked) the caller links to its consumer, brings that consumer to
    // the bin's state, then calls linkBranch. leaky: the queue drops old
    // data rather than block the tee (for consumers that may lag, e.g. a
    // decoder); recordings get a non-leaky one. nullptr with error.
    static GstPad *addBranch(GstBin *bin, StreamChain &chain, bool leaky, std::string &error);
    // Brings the branch's queue to the bin's state, then links it to a new
    // tee pad: only a branch that is ready all the way down gets data.
    static bool linkBranch(StreamChain &chain, GstPad *src, std::string &error);
    // Releases the tee pad feeding src, then sets its queue to NULL and
    // removes it. The consumer must already be unlinked or NULL (its pads
    // must not return errors: see ParticipantOutput's entry pads).
    static void removeBranch(GstBin *bin, StreamChain &chain, GstPad *src);

    // Terminates pad in a new fakesink in bin: an unlinked webrtcbin pad
    // would fail the whole session with not-linked.
    static bool linkToFakesink(GstBin *bin, GstPad *pad, std::string &error);

    // Reads a new webrtcbin pad's RTP caps: kind and upper-case encoding
    // name. False when they are not RTP caps.
    static bool describePad(const GstCaps *caps, MediaKind &kind, std::string &codec);

    // Asks the sender for a keyframe: an upstream force-key-unit event,
    // which webrtcbin's RTP session turns into a PLI (or FIR).
    static void requestKeyframe(const StreamChain &chain);
};

} // namespace rc::gateway
