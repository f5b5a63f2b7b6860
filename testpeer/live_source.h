// Encodes a test pattern and a sine tone once, for every peer of a test peer to share.
#pragma once

#include "common/base/gptr.h"
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
    int audioChannels = 2; // what the Opus encoder codes (browsers: 1, unless asked for stereo)
    int bitrateKbps = 600;
    // Alternates the encoded size between width x height and resizeWidth x resizeHeight every
    // resizeEverySeconds (0: never), as a browser does under congestion or on a camera change.
    int resizeEverySeconds = 0;
    int resizeWidth = 0;
    int resizeHeight = 0;
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
    // Starts the resize timer of LiveSourceOptions::resizeEverySeconds on ctx (the pipeline
    // owner's context); nothing when it is 0.
    void startResizing(GMainContext *ctx);

private:
    void buildVideo(const LiveSourceOptions &options);
    void buildAudio(const LiveSourceOptions &options);

    GstBin *pipeline_; // borrowed: the pipeline owns the elements
    VideoCodec codec_;
    GstElement *videoTee_ = nullptr;
    GstElement *audioTee_ = nullptr;
    GstElement *sizeFilter_ = nullptr; // borrowed: the capsfilter before the encoder
    LiveSourceOptions options_;
    bool resized_ = false;
    GPtr<GSource> resizeTimer_;
};

} // namespace rc::testpeer
