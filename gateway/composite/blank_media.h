// Black video and silent audio in place of a raw buffer: what a paused network output of the
// room composite sends, so that its viewers' players keep going.
//
// Free functions, thread-agnostic: called on the streaming thread that carries the buffer.
#pragma once

#include <gst/gst.h>

namespace rc::gateway {

// A new buffer of the same size, timestamps, duration and flags as original, holding black
// (raw YUV: luma 16, chroma 128; RGB: 0) or silence (raw audio in caps' format), or nullptr
// when caps are not raw video or audio, or original does not fit them. original is not
// touched (the tee shares it with the other outputs).
GstBuffer *blankLike(GstBuffer *original, GstCaps *caps) noexcept;

} // namespace rc::gateway
