// Shows black in one output while a participant's video is away (`gap-video: black`): when no
// frame comes, it writes a black keyframe (BlackKeyframes: the stream's codec, size and caps,
// encoded once) at the gap's start in the stream's timeline, one more every second, and then
// lets the real video in again from its next keyframe (VideoGapPlan).
//
//   tee ─► appsink ==(VideoGapPlan, one mutex)==> appsrc ─► queue ─► the output's bin
//                          ^              ^
//   clock tick every 100 ms (GstSystemClock's thread)   black keyframes encoded on
//                                                       GStreamer's thread pool per caps
//
// It sits in one tee branch, so only the outputs that ask for black get it; the others keep
// the last frame (freeze). Real time matters as for audio (AudioGapFiller, the same timing
// source): a muxer that interleaves by time (matroskamux) holds the silence written for the gap
// until the video track moves on. A frame thread and the tick thread both push through one
// appsrc under one mutex, so what is pushed is in timeline order.
//
// The appsink/appsrc pair is transparent to the rest of the branch: caps queries from upstream
// are answered by what follows the appsrc (h264parse picks its stream-format from the muxer),
// latency queries from downstream by what precedes the appsink, and keyframe requests from the
// output travel on upstream to the sender.
//
// Owned by the StreamChain branch it sits in (main context); its elements belong to the chain's
// bin. The shared state lives as long as the last of the filler, the appsink callbacks, the
// clock tick and an encoding job.
#pragma once

#include "common/base/log.h"
#include "common/gst/gst_ptr.h"

#include <gst/gst.h>

#include <memory>
#include <string>
#include <vector>

namespace rc::gateway {

class VideoGapFiller
{
public:
    // Adds appsink and appsrc to bin (not linked, not yet synced to its state); nullptr with
    // error on failure.
    static std::unique_ptr<VideoGapFiller> build(GstBin *bin, std::string &error);
    ~VideoGapFiller();
    VideoGapFiller(const VideoGapFiller &) = delete;
    VideoGapFiller &operator=(const VideoGapFiller &) = delete;

    // Link a tee pad to input(), output() to the branch's queue.
    GstElement *input() const noexcept { return sink_.get(); }
    GstElement *output() const noexcept { return src_.get(); }

    struct State; // shared with the callbacks; defined in the .cpp

private:
    VideoGapFiller() = default;

    GPtr<GstElement> sink_;
    GPtr<GstElement> src_;
    std::shared_ptr<State> state_;
    GstClockID tick_ = nullptr;
    // The probes that forward queries and keyframe requests between the two pads; each holds
    // a reference to the other pad, a cycle that only removing them (in the destructor) breaks.
    struct Probe
    {
        GPtr<GstPad> pad;
        gulong id = 0;
    };
    std::vector<Probe> probes_;
};

} // namespace rc::gateway
