// Parsing of the control API's POST .../outputs body; see start_output_body.h.
#include "gateway/ops/start_output_body.h"

#include "common/base/json.h"

#include <glib.h>

#include <algorithm>
#include <cstring>

namespace rc::ops {

bool isOutputId(const std::string &s)
{
    return !s.empty() && s.size() <= 128 && s.front() != '.'
        && std::all_of(s.begin(), s.end(),
            [](char c) { return g_ascii_isalnum(c) || c == '_' || c == '-' || c == '.'; });
}

bool isPipelineName(const std::string &s)
{
    return isOutputId(s) && s.size() <= 64;
}

std::variant<StartOutputBody, BodyError> parseStartOutputBody(
    const std::string &text, int maxJsonDepth)
{
    std::string parseError;
    StartOutputBody body;
    body.root = json::parse(text, parseError, maxJsonDepth);
    if (!body.root)
        return BodyError { "invalid JSON: " + parseError, "invalid_json" };
    if (!JSON_NODE_HOLDS_OBJECT(body.root.get()))
        return BodyError { "the body must be a JSON object", "invalid_body" };
    JsonObject *obj = json_node_get_object(body.root.get());
    GList *members = json_object_get_members(obj);
    std::string unknown;
    for (GList *l = members; l; l = l->next) {
        const char *name = static_cast<const char *>(l->data);
        if (std::strcmp(name, "pipeline") != 0 && std::strcmp(name, "params") != 0
            && unknown.empty())
            unknown = name;
    }
    g_list_free(members);
    if (!unknown.empty())
        return BodyError { "unknown field '" + unknown.substr(0, 64) + "'", "invalid_body" };
    auto pipeline = json::stringMember(obj, "pipeline");
    if (!pipeline)
        return BodyError { "'pipeline' must be a string", "invalid_body" };
    if (!isPipelineName(*pipeline))
        return BodyError { "unknown pipeline", "unknown_pipeline" };
    body.pipeline = *pipeline;
    if (json::hasMember(obj, "params")) {
        body.params = json::objectMember(obj, "params");
        if (!body.params)
            return BodyError { "'params' must be an object", "invalid_body" };
    }
    return body;
}

} // namespace rc::ops
