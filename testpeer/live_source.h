// Encodes a test pattern and a sine tone once, for every peer of a test peer to share.
#pragma once

#include "testpeer/track_source.h"

#include <string>

namespace rc::testpeer {

struct LiveSourceOptions
{
    VideoCodec codec = VideoCodec::vp8;
    int width = 640;
    int height = 360;
    int fps = 30;
    std::string pattern = "smpte"; // a colour name or a videotestsrc pattern
    double audioFrequency = 440.0;
    int bitrateKbps = 600;
};

// videotestsrc -> encoder -> tee and audiotestsrc -> opusenc -> tee, added to
// a pipeline it borrows. Owned by main; thread-bound to the pipeline owner's
// main context. Construction is start-up code: it throws rc::StartupError
// (64 for a bad pattern, 69 for a missing plugin).
class LiveSource final : public TrackSource
{
public:
    LiveSource(GstBin *pipeline, const LiveSourceOptions &options);
    GstElement *videoTee() const noexcept override { return videoTee_; }
    GstElement *audioTee() const noexcept override { return audioTee_; }
    VideoCodec videoCodec() const noexcept override { return codec_; }

private:
    void buildVideo(const LiveSourceOptions &options);
    void buildAudio(const LiveSourceOptions &options);

    GstBin *pipeline_; // borrowed: the pipeline owns the elements
    VideoCodec codec_;
    GstElement *videoTee_ = nullptr;
    GstElement *audioTee_ = nullptr;
};

} // namespace rc::testpeer
