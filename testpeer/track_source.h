// The encoded tracks a participant fans out to its peers: one video tee and one audio tee.
#pragma once

#include "testpeer/codec_plan.h"

#include <gst/gst.h>

namespace rc::testpeer {

// Implemented by the live test-pattern encoder (LiveSource) and by the load
// generator's pre-encoded clip. The tees live in the participant's pipeline
// and are built with allow-not-linked, so peers come and go freely.
// Thread-bound to the main context that owns the pipeline.
class TrackSource
{
public:
    virtual ~TrackSource() = default;
    virtual GstElement *videoTee() const noexcept = 0; // borrowed, H264, VP8 or VP9 frames
    virtual GstElement *audioTee() const noexcept = 0; // borrowed, Opus packets
    virtual VideoCodec videoCodec() const noexcept = 0;
};

} // namespace rc::testpeer
