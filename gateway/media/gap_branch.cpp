// The gap fillers' appsink/appsrc pair; see gap_branch.h.
#include "gateway/media/gap_branch.h"

#include "common/gst/gst_helpers.h"

namespace rc::gateway {

bool buildGapBranch(GstBin *bin, guint64 maxQueueBytes, const char *what, GPtr<GstElement> &sink,
    GPtr<GstElement> &src, std::string &error)
{
    GstElement *appsink = rc::makeElement("appsink", nullptr, error);
    if (!appsink)
        return false;
    sink = refSink(appsink);
    GstElement *appsrc = rc::makeElement("appsrc", nullptr, error);
    if (!appsrc)
        return false;
    src = refSink(appsrc);
    g_object_set(appsink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "max-buffers",
        0u, "emit-signals", FALSE, nullptr);
    // Not blocking: a stalled output must not stall the filler's clock thread.
    g_object_set(appsrc, "is-live", TRUE, "do-timestamp", FALSE, "block", FALSE, "min-latency",
        static_cast<gint64>(0), "max-latency", static_cast<gint64>(-1), nullptr);
    gst_util_set_object_arg(G_OBJECT(appsrc), "format", "time");
    // Not blocking means appsrc would queue without limit behind a stalled output: bounded, the
    // oldest data goes first (that output has lost it anyway) and memory stays flat.
    g_object_set(appsrc, "max-bytes", maxQueueBytes, nullptr);
    gst_util_set_object_arg(G_OBJECT(appsrc), "leaky-type", "downstream");
    if (!gst_bin_add(bin, appsink) || !gst_bin_add(bin, appsrc)) {
        error = std::string("cannot add the ") + what + " gap filler";
        return false;
    }
    return true;
}

} // namespace rc::gateway
