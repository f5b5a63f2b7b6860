// Encoding of the resource-limit errors; see limit_errors.h.
#include "signaling/limit_errors.h"

#include "common/base/json.h"

namespace rc::signaling::limits {

std::string encodeError(const char *code, std::string_view message)
{
    return json::ObjectBuilder()
        .set("type", "error")
        .set("code", code)
        .set("message", message)
        .toString();
}

} // namespace rc::signaling::limits
