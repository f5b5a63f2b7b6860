// Parsing ERROR and WARNING bus messages into owned text; see bus_message.h.
#include "common/gst/bus_message.h"

#include "common/gst/gst_ptr.h"

namespace rc {

std::optional<BusProblem> readBusProblem(GstMessage *message, const char *fallback)
{
    if (!message)
        return std::nullopt;
    const GstMessageType type = GST_MESSAGE_TYPE(message);
    if (type != GST_MESSAGE_ERROR && type != GST_MESSAGE_WARNING)
        return std::nullopt;
    BusProblem problem;
    problem.isError = type == GST_MESSAGE_ERROR;
    GError *raw = nullptr;
    char *debug = nullptr;
    (problem.isError ? gst_message_parse_error : gst_message_parse_warning)(message, &raw, &debug);
    auto error = adopt(raw);
    problem.message = error && error->message ? error->message : fallback;
    if (error) {
        problem.domain = error->domain;
        problem.code = error->code;
    }
    problem.debug = takeString(debug);
    if (GstObject *src = GST_MESSAGE_SRC(message)) {
        problem.sourcePath = takeString(gst_object_get_path_string(src));
        problem.sourceName = GST_OBJECT_NAME(src) ? GST_OBJECT_NAME(src) : "";
    }
    return problem;
}

} // namespace rc
