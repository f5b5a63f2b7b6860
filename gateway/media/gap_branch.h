// The appsink -> appsrc pair the video gap filler sits on in a tee branch (what arrives goes out
// again, with filler buffers pushed in between). The audio filler needs none: it works in line.
//
// A plain function; called by VideoGapFiller::build on the main context, which owns the
// elements it returns.
#pragma once

#include "common/gst/gst_ptr.h"

#include <gst/gst.h>

#include <string>

namespace rc::gateway {

// Makes the pair in bin: appsink without clock sync or preroll (not a real sink, the stream is
// live), appsrc live in time format, not blocking, with its queue bounded at maxQueueBytes
// (oldest dropped). sink and src take our references. False with error ("cannot add the
// <what> gap filler" when the bin refuses); the caller then drops what it was given.
bool buildGapBranch(GstBin *bin, guint64 maxQueueBytes, const char *what, GPtr<GstElement> &sink,
    GPtr<GstElement> &src, std::string &error);

} // namespace rc::gateway
