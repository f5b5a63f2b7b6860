// Loops a pre-encoded clip in real time into two tees, with a keyframe whenever a receiver asks.
#pragma once

#include "encoded_clip.h"
#include "testpeer/track_source.h"

#include <atomic>
#include <memory>

namespace rc::bench {

// A TrackSource for the load generator: appsrc -> tee per track, fed from a
// 5 ms timer on the main context, so N senders cost one set of buffers and
// no encoder. An upstream force-key-unit (a PLI or FIR from any receiver,
// or a sender's own request on connect) makes the next video frame the
// clip's next keyframe, as a live encoder would.
//
// Owned by the load generator's main; thread-bound to its GMainContext,
// except the keyframe flag, which the appsrc pad probe sets.
class ClipPlayer final : public testpeer::TrackSource
{
public:
    ClipPlayer(GMainContext *context, GstBin *pipeline, std::shared_ptr<const EncodedClip> clip);
    ~ClipPlayer() override;
    ClipPlayer(const ClipPlayer &) = delete;
    ClipPlayer &operator=(const ClipPlayer &) = delete;

    GstElement *videoTee() const noexcept override { return videoTee_; }
    GstElement *audioTee() const noexcept override { return audioTee_; }
    testpeer::VideoCodec videoCodec() const noexcept override { return testpeer::VideoCodec::vp8; }

    // Starts the feeding timer; call once the pipeline is PLAYING.
    void start();
    unsigned long long keyframesOnDemand() const noexcept { return forcedKeyframes_; }

private:
    struct Track
    {
        GstElement *appsrc = nullptr; // borrowed: the pipeline owns it
        const std::vector<EncodedClip::Frame> *frames = nullptr;
        size_t next = 0;
        GstClockTime nextPts = GST_CLOCK_TIME_NONE;
    };
    bool tick();
    void feed(Track &track, GstClockTime now, bool video);

    GMainContext *context_;
    GstBin *pipeline_;
    std::shared_ptr<const EncodedClip> clip_;
    Track video_, audio_;
    GstElement *videoTee_ = nullptr;
    GstElement *audioTee_ = nullptr;
    GPtr<GSource> timer_;
    std::shared_ptr<std::atomic<bool>> keyframeWanted_;
    unsigned long long forcedKeyframes_ = 0;
};

} // namespace rc::bench
