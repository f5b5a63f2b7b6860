// One participant's way into the room composite: decode branches for its pipeline, and the
// thread-safe lanes that carry decoded frames and samples into the RoomMixer's pipeline.
//
// A MixFeed is created by RoomMixer::addParticipant and shared (shared_ptr)
// between the mixer and the participant's PeerReceiver. createDecodeBranch is
// called on the gateway's main context; the branch it returns lives in the
// participant's own GstPipeline, and its appsink callbacks run on that
// pipeline's streaming thread, handing each decoded buffer over to the
// mixer's appsrc (a MixLane, mutex-protected). So the two pipelines share
// buffers, never elements, clocks or state changes: a participant's stall,
// error or teardown never reaches the mixer.
#pragma once

#include "common/base/weak_self.h"
#include "common/gst/gst_ptr.h"
#include "common/gst/required_elements.h"
#include "gateway/media/media_kind.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace rc::gateway {

class RoomMixer;

// The hand-over point of one decode branch (one kind of one participant).
// Thread-safe: pushed into from the participant's streaming thread,
// attached/detached by the RoomMixer on the main context.
struct MixLane
{
    explicit MixLane(MediaKind k)
        : kind(k)
    { }
    const MediaKind kind;

    // Streaming thread: hands a decoded sample to the mixer (dropped when
    // detached). Re-stamps it with the arrival time on the mixer's clock.
    void push(GstSample *sample) noexcept;
    // Streaming thread: the decode branch got EOS (the participant's
    // pipeline is finishing).
    void end() noexcept;

    // Streaming thread: the decoder's output caps (before any scaling), whose
    // display size onVideoSize reports.
    void decodedCaps(GstCaps *caps) noexcept;

    // Main context, by the mixer. onVideoSize and onEnded are called on the
    // streaming thread with the lane's mutex held: they may only post().
    void attach(GstElement *appsrc, std::function<void(int, int)> onVideoSize,
        std::function<void()> onEnded);
    void detach() noexcept;

    // Video, main context, by the mixer: the size of the tile's picture, to
    // which the decode branch scales each frame before handing it over (0x0:
    // unscaled). Scaling once per tile, to the tile, in the participant's
    // decode thread costs a fraction of the compositor scaling every frame on
    // its one aggregation thread (bench/RESULTS.md, "Room composites"); the
    // compositor then only places the picture. Until the new caps are
    // negotiated the compositor scales what arrives, so a layout change never
    // shows a wrong size. Only recorded here: applyScale() puts it in place.
    void scaleTo(int width, int height);
    // Video, streaming thread, before each decoded frame enters the scaler:
    // sets the size scaleTo() asked for on the branch's capsfilter, if it
    // changed. On the thread that negotiates, between two frames: set from
    // the main context, the caps could change while the scaler was
    // negotiating the previous ones, and the capsfilter refused what the
    // scaler then sent (not-negotiated, 2026-12-05).
    void applyScale() noexcept;
    // Set once by MixFeed when it builds the branch, before the lane is shared.
    void setScaleFilter(GstElement *capsfilter);

private:
    std::mutex mutex_;
    GPtr<GstElement> appsrc_; // the mixer's; nullptr while detached
    GPtr<GstElement> scaleFilter_; // video: the decode branch's size capsfilter
    int scaleWidth_ = -1, scaleHeight_ = -1; // what scaleTo asked for (0x0: unscaled)
    int appliedWidth_ = -1, appliedHeight_ = -1; // what scaleFilter_ asks for now
    int sourceWidth_ = 0, sourceHeight_ = 0; // video: display size of the last decoded caps
    GPtr<GstCaps> caps_; // last caps given to appsrc_
    int rate_ = 0, bytesPerFrame_ = 0; // audio: from caps_
    GstClockTime next_ = GST_CLOCK_TIME_NONE; // audio: where the next buffer continues
    bool ended_ = false;
    std::function<void(int, int)> onVideoSize_;
    std::function<void()> onEnded_;
};

class MixFeed
{
public:
    MixFeed(std::string participant, WeakSelf<RoomMixer>::Ref mixer);
    MixFeed(const MixFeed &) = delete;
    MixFeed &operator=(const MixFeed &) = delete;

    const std::string &participant() const noexcept { return participant_; }

    // Main context. A bin with one ghost sink pad "sink" that takes the
    // participant's stream as its chain carries it (VP8/VP9 after the
    // depayloader, H264 after h264parse, OPUS after the depayloader/opusparse),
    // decodes it (vp8dec, vp9dec, avdec_h264, opusdec), scales video to its
    // tile's picture (MixLane::scaleTo), converts it (I420; S16LE 48 kHz
    // stereo) and hands it to the mixer. Put it on a branch of
    // its own after a leaky queue (leaky=downstream, about 1 s): decoding
    // then has its own thread, and a slow decoder drops compressed data
    // instead of holding up the recordings on the other branches. It never
    // blocks nor fails its pipeline (decode errors are not fatal, a full
    // mixer drops).
    // Replaces an earlier branch of the same kind in the mixer (a participant
    // whose receiver was rebuilt). nullptr with error for a codec it cannot
    // decode or a missing plugin. The caller adds the bin to its pipeline and
    // syncs its state; it stays usable if the mixer goes away or the
    // participant is removed (frames are then dropped). EOS into the branch
    // (the receiver finishing) releases its mixer side: the participant's
    // tile turns dark grey / its audio leaves the mix until a new branch
    // comes or RoomMixer::removeParticipant drops the tile.
    GPtr<GstElement> createDecodeBranch(
        MediaKind kind, const std::string &codec, std::string &error);

    // The decoder factory for an RTP encoding name ("" = none).
    static std::string decoderFor(MediaKind kind, const std::string &codec);
    // What createDecodeBranch makes besides a video decoder (the audio decoder is always opus).
    static RequiredElements requiredElements();

private:
    std::string participant_;
    WeakSelf<RoomMixer>::Ref mixer_; // the mixer's liveness token
};

} // namespace rc::gateway
