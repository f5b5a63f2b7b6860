// Disk faults told apart from other output errors; see output_fault.h.
#include "gateway/output/output_fault.h"

#include <gst/gst.h>

namespace rc::gateway {

const char *outputFaultName(OutputFault fault) noexcept
{
    switch (fault) {
    case OutputFault::diskFull:
        return "disk-full";
    case OutputFault::diskError:
        return "disk-error";
    case OutputFault::other:
        break;
    }
    return "other";
}

OutputFault classifyOutputError(GQuark domain, int code, const std::string &debug)
{
    // The debug text carries strerror (filesink: "system error: No space left on device").
    if (debug.find("No space left on device") != std::string::npos
        || debug.find("Disk quota exceeded") != std::string::npos)
        return OutputFault::diskFull;
    if (domain != GST_RESOURCE_ERROR)
        return OutputFault::other;
    switch (code) {
    case GST_RESOURCE_ERROR_NO_SPACE_LEFT:
        return OutputFault::diskFull;
    case GST_RESOURCE_ERROR_WRITE:
    case GST_RESOURCE_ERROR_CLOSE:
    case GST_RESOURCE_ERROR_SYNC:
    case GST_RESOURCE_ERROR_SEEK:
    case GST_RESOURCE_ERROR_OPEN_WRITE:
        return OutputFault::diskError;
    default:
        return OutputFault::other;
    }
}

OutputFault classifyOutputError(const BusProblem &problem)
{
    return classifyOutputError(problem.domain, problem.code, problem.debug);
}

std::string describeOutputFault(
    OutputFault fault, const std::string &path, const std::string &message)
{
    switch (fault) {
    case OutputFault::diskFull:
        return "no space left on device: " + path;
    case OutputFault::diskError:
        return "write error on " + path + ": " + message;
    case OutputFault::other:
        break;
    }
    // srtsink (1.22) says the same for a receiver that is not there, went away or rejected us
    // (a wrong passphrase): the reason is only in the receiver's log, so say where to look.
    if (message.find("SRT socket") != std::string::npos)
        return message
            + " (the SRT receiver is not listening, went away or refused the connection: check "
              "the URL and that the passphrase matches the receiver's)";
    return message;
}

} // namespace rc::gateway
