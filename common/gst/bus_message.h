// An ERROR or WARNING bus message as owned text: what went wrong, where, and GStreamer's debug
// detail, parsed once for every bus handler in the gateway and the test peer.
//
// A plain value; parse on the thread that handles the bus message (the owner's main context).
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>

namespace rc {

struct BusProblem
{
    bool isError = false; // ERROR (else WARNING)
    std::string message; // the GError's message, or the fallback when the element gave none
    // The GError's domain and code (0, 0 when it had none): what a handler tells faults apart
    // by (filesink's full disk is GST_RESOURCE_ERROR / GST_RESOURCE_ERROR_NO_SPACE_LEFT).
    GQuark domain = 0;
    int code = 0;
    std::string debug; // GStreamer's debug detail, "" if none
    std::string sourcePath; // gst_object_get_path_string: "/GstPipeline:p/GstBin:b", "" if none
    std::string sourceName; // the source's own name (sink), "" if no source

    // "<source path>: <message>", how the gateway logs and reports a problem.
    std::string describe() const { return sourcePath + ": " + message; }
};

// The problem an ERROR or WARNING message carries; nullopt for any other message type.
std::optional<BusProblem> readBusProblem(
    GstMessage *message, const char *fallback = "unknown error");

} // namespace rc
