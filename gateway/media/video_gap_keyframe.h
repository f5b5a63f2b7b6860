// Black keyframes in a received video stream's own codec, size and framing, for the video gap
// filler (`gap-video: black`): encoded once per stream caps with vp8enc, vp9enc or x264enc.
//
// The stream is never transcoded: only these few black pictures are encoded, and they travel
// with the stream's caps (the caps the muxers were given, see CapsGuard). So each must decode by
// itself under those caps: a VP8/VP9 keyframe carries its size in its frame header; an H.264 one
// is an IDR access unit carrying its own SPS and PPS in-band, in the stream's stream-format
// (avc: 4-byte lengths, as the chain's h264parse writes them; or byte-stream), encoded with the
// stream's profile so that a decoder set up for the stream takes it. The real stream resumes at
// its next IDR, before which the chain's h264parse puts the stream's own SPS and PPS again.
//
// Stateless; encode() runs a small pipeline of its own to completion on the calling thread
// (tens of milliseconds): call it from GStreamer's thread pool, never from a streaming or clock
// thread.
#pragma once

#include "common/gst/gst_ptr.h"

#include <gst/gst.h>

#include <string>
#include <vector>

namespace rc::gateway {

class BlackKeyframes
{
public:
    // What to encode, read from a stream's caps.
    struct Spec
    {
        std::string media; // "video/x-vp8", "video/x-vp9", "video/x-h264"
        int width = 0;
        int height = 0;
        std::string profile; // as the caps say it ("" = the encoder's default)
        std::string streamFormat; // H.264: "avc", "avc3" or "byte-stream"
        bool operator==(const Spec &) const = default;
    };

    // The spec for caps; false with error when the codec is not one this encodes, or the caps
    // say no usable size.
    static bool describe(const GstCaps *caps, Spec &spec, std::string &error);
    // Black keyframes for spec: one for VP8/VP9, two for H.264 (consecutive IDR pictures must
    // differ in idr_pic_id, and x264 alternates it). Empty with error on failure (an encoder
    // missing, a size it refuses).
    static std::vector<GPtr<GstBuffer>> encode(const Spec &spec, std::string &error);
    // Short text for logs: "VP8 640x360", "H264 1280x720 profile constrained-baseline avc".
    static std::string name(const Spec &spec);
};

} // namespace rc::gateway
