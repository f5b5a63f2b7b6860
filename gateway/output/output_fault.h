// What an ERROR from inside an output's bin means for its retry: a disk that is full, a disk
// that failed a write, or anything else.
//
// Pure functions over a GError's domain and code; safe on any thread. Used by both scopes: a
// participant's instance (ParticipantOutput::noteError) and a room composite's output
// (RoomOutputs, from what MixerOutputs reports).
#pragma once

#include "common/gst/bus_message.h"

#include <glib.h>

#include <string>

namespace rc::gateway {

enum class OutputFault {
    other, // the template's elements broke (a muxer refused its input, a server went away)
    diskFull, // ENOSPC: the output continues as a new part once there is room again
    diskError, // EIO and other write/close/sync failures of a file sink: retried the same way
};

// "other", "disk-full", "disk-error".
const char *outputFaultName(OutputFault fault) noexcept;

// filesink posts RESOURCE/NO_SPACE_LEFT for ENOSPC and RESOURCE/WRITE (or CLOSE, SYNC, SEEK)
// with strerror in the debug text for any other failed write; some muxers' sinks only say so in
// the debug text, so that is read too.
OutputFault classifyOutputError(GQuark domain, int code, const std::string &debug);
// The same for an ERROR read off a bus (a participant's pipeline, a room composite's).
OutputFault classifyOutputError(const BusProblem &problem);

// What the log, the control API and the webhook say: "no space left on device: <path>" or
// "write error on <path>: <message>"; message itself for any other fault (an SRT sink's
// connection error gets a hint: srtsink cannot say whether the receiver refused or is gone).
std::string describeOutputFault(
    OutputFault fault, const std::string &path, const std::string &message);

} // namespace rc::gateway
