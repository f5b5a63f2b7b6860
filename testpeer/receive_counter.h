// Ends every stream a peer sends us in a fakesink and counts the video frames that arrive.
#pragma once

#include "common/gst/gst_ptr.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace rc::testpeer {

// Owned by a PeerSession; thread-bound to its main context, except the
// counters, which pad probes on streaming threads bump (atomics, shared with
// the probes so they outlive this object if a probe is still running).
class ReceiveCounter
{
public:
    explicit ReceiveCounter(GstBin *bin); // bin: borrowed, the session's bin
    ~ReceiveCounter();
    ReceiveCounter(const ReceiveCounter &) = delete;
    ReceiveCounter &operator=(const ReceiveCounter &) = delete;

    // Links a webrtcbin src pad (held blocked by blockProbe since pad-added)
    // to a new fakesink, then releases the block.
    void attach(GstPad *pad, gulong blockProbe, bool video);

    // Video frames: RTP packets with the marker bit (the last of each frame).
    uint64_t videoFrames() const noexcept { return counts_->videoFrames.load(); }
    uint64_t audioPackets() const noexcept { return counts_->audioPackets.load(); }

    struct Counts
    {
        std::atomic<uint64_t> videoFrames { 0 };
        std::atomic<uint64_t> audioPackets { 0 };
    };

private:
    GstBin *bin_;
    std::shared_ptr<Counts> counts_;
    struct Probe
    {
        GPtr<GstPad> pad;
        gulong id;
    };
    std::vector<Probe> probes_;
};

// Whether a pad's current caps are media=video. The caps of a webrtcbin src
// pad are known once its first buffer is there, not at pad-added; and its
// "transceiver" property can name another m-line of the BUNDLE (1.22).
// Safe on any thread.
bool padCarriesVideo(GstPad *pad) noexcept;

} // namespace rc::testpeer
