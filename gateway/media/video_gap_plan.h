// When and where black keyframes go into a video stream that stops, for an output whose template
// says `gap-video: black`: the timing rules of the video gap filler, kept free of GStreamer so
// that they can be tested alone.
//
// Owned by one VideoGapFiller, which calls it under its own mutex (from the streaming thread for
// real frames, from a clock thread for ticks): the plan itself is not thread-safe.
//
// All times are nanoseconds of the pipeline's running time, as in AudioGapPlan (the same timing
// source): a real frame's "arrival" is the running time at which it reached the filler, its PTS
// what the jitterbuffer gave it, and while nothing comes "now - (arrival - PTS)" is the PTS the
// next frame would have had.
//
// The first black keyframe sits where the last real frame ends (the gap's true start), then one
// more every repeatEvery while the gap lasts (a player seeking into the gap finds a keyframe,
// and a muxer that interleaves by time sees the video track move on). After black, the real
// stream's delta frames refer to pictures the output never got: they are dropped, with keyframe
// requests, until the sender's next keyframe, which ends the gap.
#pragma once

#include <cstdint>
#include <vector>

namespace rc::gateway {

class VideoGapPlan
{
public:
    using Ns = std::int64_t;
    static constexpr Ns kMs = 1000000;

    struct Settings
    {
        // A gap begins once the stream is this far behind its expected position. Longer than
        // the frame spacing of a live sender (a camera sends 5-30 fps, a muted browser track
        // about one frame a second), since black cuts the real stream off until its next
        // keyframe.
        Ns startAfter = 1500 * kMs;
        // Black is written up to this far behind the expected position, so that real frames,
        // when they return (after an outage the jitterbuffer delivers them up to ~180 ms
        // behind their PTS), come after it.
        Ns lag = 300 * kMs;
        // One black keyframe this often while the gap lasts.
        Ns repeatEvery = 1000 * kMs;
        // While real delta frames are dropped after black, a keyframe is asked for again this
        // often (a request can be lost, or come before the sender is back).
        Ns keyframeRetry = 500 * kMs;
        // A frame's length when the stream gave neither a duration nor a usable spacing.
        Ns defaultFrame = 33 * kMs;
    };

    // One black keyframe to insert. index counts the gap's black frames from 0 (H.264 needs
    // consecutive IDR pictures to differ: the filler alternates two encodings by it).
    struct Frame
    {
        Ns pts = 0;
        Ns duration = 0;
        unsigned index = 0;
        bool operator==(const Frame &) const = default;
    };

    // What to do with one real frame.
    struct Decision
    {
        bool pass = true; // false: drop it
        bool requestKeyframe = false; // ask the sender for a keyframe now
        bool gapEnded = false; // a gap ends with this frame
        unsigned blackWritten = 0; // when gapEnded: black keyframes written for that gap
        Ns gapStart = 0; // when gapEnded: where the gap began (the last frame's end)
    };

    VideoGapPlan() = default;
    explicit VideoGapPlan(Settings settings)
        : settings_(settings)
    { }

    // A real frame; pts < 0 means it has none (it passes untouched and changes nothing).
    Decision real(Ns pts, Ns duration, bool keyframe, Ns arrival);
    // The clock moved on to now with no frame: the black keyframes due. canFill is false while
    // there is no black keyframe to write (not encoded yet): the gap is still noted, and the
    // output then freezes instead.
    std::vector<Frame> tick(Ns now, bool canFill);

    bool started() const noexcept { return started_; }
    bool inGap() const noexcept { return inGap_; }
    // Black was written in the current gap: real frames wait for a keyframe.
    bool waitingForKeyframe() const noexcept { return waitKeyframe_; }
    // Where the last real frame that passed ends.
    Ns end() const noexcept { return end_; }
    // The length given to a frame: the stream's own spacing when known.
    Ns frameLength() const noexcept;
    unsigned gaps() const noexcept { return gaps_; }
    unsigned blackWritten() const noexcept { return blackTotal_; }
    unsigned realDropped() const noexcept { return dropped_; }

private:
    Settings settings_;
    bool started_ = false;
    bool inGap_ = false;
    bool waitKeyframe_ = false;
    Ns lastPts_ = 0; // PTS of the last real frame that passed
    Ns end_ = 0;
    Ns spacing_ = 0; // PTS step between the last two real frames (0: unknown)
    Ns offset_ = 0; // arrival - PTS of the latest real frame
    Ns gapStart_ = 0;
    Ns nextBlack_ = 0;
    Ns lastBlack_ = -1; // PTS of the last black frame written (-1: none in this gap)
    Ns lastRequest_ = -1; // arrival of the last keyframe request (-1: none in this gap)
    unsigned gapBlack_ = 0;
    unsigned gaps_ = 0;
    unsigned blackTotal_ = 0;
    unsigned dropped_ = 0;
};

} // namespace rc::gateway
