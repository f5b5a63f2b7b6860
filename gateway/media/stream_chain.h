// One received stream as elements: depayloader ! parser ! tee (with the keyframe gate on
// video), and the branches that consumers hang from while the stream runs.
//
// Owned by the PeerReceiver that built it for one webrtcbin pad; thread-bound to the gateway's
// main context. Only its KeyframeGate is shared with the streaming thread. Its elements belong
// to the bin it was built in (the participant's pipeline), which outlives the chain.
#pragma once

#include "common/gst/gst_ptr.h"
#include "gateway/media/audio_gap_filler.h"
#include "gateway/media/keyframe_gate.h"
#include "gateway/media/media_kind.h"
#include "gateway/media/video_gap_filler.h"

#include <memory>
#include <string>
#include <vector>

namespace rc::gateway {

class StreamChain
{
public:
    // Builds depayloader ! parser ! tee in bin, with the keyframe gate on video and the audio gap
    // filler (AudioGapFiller, a probe) on the parser's src pad on Opus, and brings the
    // new elements to the bin's state. The tee always exists (allow-not-linked), so that
    // consumers can be attached to and detached from a running stream. nullptr with error on
    // failure (the elements already added are left to the pipeline's teardown).
    static std::unique_ptr<StreamChain> build(
        GstBin *bin, MediaKind kind, const std::string &codec, std::string &error);
    StreamChain(const StreamChain &) = delete;
    StreamChain &operator=(const StreamChain &) = delete;

    MediaKind kind() const noexcept { return kind_; }
    // RTP encoding name, upper case.
    const std::string &codec() const noexcept { return codec_; }
    // The depayloader's sink pad: link webrtcbin's pad here.
    GstPad *sink() const noexcept { return sink_.get(); }
    // Video whose first keyframe has not arrived yet.
    bool waitingForKeyframe() const noexcept { return gate_ && !gate_->open(); }
    // The keyframe gate's first opening is logged with peer's name, timed from connectedUs
    // (see KeyframeGate::reportFirstOpen: before data flows); nothing for audio.
    void reportFirstKeyframe(const std::string &peer, gint64 connectedUs)
    {
        if (!gate_)
            return;
        gate_->reportFirstOpen(peer);
        gate_->setConnectedAt(connectedUs);
    }
    // ICE connected after the chain was built (any time).
    void connectedAt(gint64 connectedUs) noexcept
    {
        if (gate_)
            gate_->setConnectedAt(connectedUs);
    }
    // A new sender feeds the chain (a new peer connection): video waits for its keyframe again.
    void rearmKeyframeGate() noexcept
    {
        if (gate_)
            gate_->rearm();
    }

    // A new branch, not yet fed: its src pad (returned, unlinked) the caller links to its
    // consumer, brings that consumer to the bin's state, then calls linkBranch. Each branch
    // has a thread of its own between the tee and its consumer, so that outputs never wait
    // for each other; only where that thread comes from differs:
    // - leaky: a queue that drops old data rather than block the tee (for consumers that may
    //   lag, e.g. a decoder or a network sink);
    // - blackVideoGaps (video only): the branch shows black while the video is away; the
    //   VideoGapFiller's appsrc is the branch's thread (and its bounded queue), and a leaky
    //   branch keeps its queue behind it;
    // - consumerQueues: the consumer's entry is a queue of its own (a recording template's
    //   `queue name=video|audio`): the tee feeds it directly (a queue here would be a second
    //   thread hop per buffer for nothing);
    // - otherwise a non-leaky queue.
    // nullptr with error.
    GstPad *addBranch(
        bool leaky, std::string &error, bool blackVideoGaps = false, bool consumerQueues = false);
    // Brings the branch's own elements to the bin's state, then lets data through: a new tee pad
    // linked to them, or (a tee pad feeding the consumer directly) the tee pad's buffers no
    // longer dropped. Only a branch that is ready all the way down gets data.
    bool linkBranch(GstPad *src, std::string &error);
    // Releases the tee pad feeding src, then sets its queue (or filler) to NULL and removes it;
    // nothing if src is not one of this chain's branches. The consumer must already be unlinked
    // or NULL (its pads must not return errors: see ParticipantOutput's entry pads).
    void removeBranch(GstPad *src);
    size_t branchCount() const noexcept { return branches_.size(); }

    // Asks the sender for a keyframe: an upstream force-key-unit event, which webrtcbin's RTP
    // session turns into a PLI (or FIR).
    void requestKeyframe() const;

private:
    // tee pad -> [filler] -> [queue] -> (a consumer); with neither, src is the tee pad itself.
    struct Branch
    {
        GPtr<GstPad> teePad; // the tee's request pad
        GPtr<GstElement> queue; // nullptr when the filler or the consumer decouples
        GPtr<GstPad> src; // the consumer links here
        std::unique_ptr<VideoGapFiller> filler; // between tee pad and queue, if any
        gulong gate = 0; // src is the tee pad: drops its buffers until linkBranch
    };
    StreamChain(GstBin *bin, MediaKind kind, std::string codec);

    GstBin *bin_; // borrowed: holds the elements and outlives the chain
    MediaKind kind_;
    std::string codec_;
    GPtr<GstPad> sink_;
    GPtr<GstElement> tee_;
    std::vector<Branch> branches_;
    std::shared_ptr<KeyframeGate> gate_; // video only
    std::unique_ptr<AudioGapFiller> filler_; // Opus only: silence across gaps, before the tee
    rc::log::Logger log_ { "gateway" };
};

} // namespace rc::gateway
