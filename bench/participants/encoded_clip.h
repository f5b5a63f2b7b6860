// Encodes a short VP8 + Opus clip once, into memory, for the load generator to loop.
#pragma once

#include "common/gst/gst_ptr.h"

#include <vector>

namespace rc::bench {

struct ClipOptions
{
    int width = 640;
    int height = 360;
    int fps = 30;
    int bitrateKbps = 500;
    int seconds = 4;
};

// Immutable once encoded; shared read-only by the ClipPlayer on the main context.
struct EncodedClip
{
    struct Frame
    {
        GPtr<GstBuffer> buffer;
        GstClockTime duration = 0;
        bool keyframe = false;
    };
    std::vector<Frame> video;
    std::vector<Frame> audio;
    GPtr<GstCaps> videoCaps;
    GPtr<GstCaps> audioCaps;
};

// Runs a one-shot encoding pipeline to completion (libvpx realtime, one
// keyframe a second). The pattern scrolls so that delta frames are not empty:
// at 640x360 and a 500 kbit/s target, libvpx makes about 580 kbit/s, a
// webcam-like rate ("ball" gives only 100 kbit/s).
// Start-up code: throws rc::StartupError (69 missing plugin, 70 failure).
EncodedClip encodeClip(const ClipOptions &options);

} // namespace rc::bench
