// json-glib helpers; see json.h.
#include "common/base/json.h"

namespace rc::json {

int nestingDepth(std::string_view text) noexcept
{
    int depth = 0, maxDepth = 0;
    bool inString = false, escaped = false;
    for (char c : text) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        switch (c) {
        case '"':
            inString = true;
            break;
        case '[':
        case '{':
            if (++depth > maxDepth)
                maxDepth = depth;
            break;
        case ']':
        case '}':
            if (depth > 0)
                --depth;
            break;
        default:
            break;
        }
    }
    return maxDepth;
}

GPtr<JsonNode> parse(std::string_view text, std::string &error, int maxDepth)
{
    if (nestingDepth(text) > maxDepth) {
        error = "JSON nested deeper than " + std::to_string(maxDepth) + " levels";
        return nullptr;
    }
    if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
        error = "text is not valid UTF-8";
        return nullptr;
    }
    auto parser = adopt(json_parser_new_immutable());
    GError *rawError = nullptr;
    if (!json_parser_load_from_data(
            parser.get(), text.data(), static_cast<gssize>(text.size()), &rawError)) {
        auto err = adopt(rawError);
        error = err ? err->message : "unparsable JSON";
        return nullptr;
    }
    JsonNode *root = json_parser_get_root(parser.get()); // borrowed from the parser
    if (!root) {
        error = "empty JSON text";
        return nullptr;
    }
    return adopt(json_node_ref(root));
}

std::string serialize(JsonNode *node)
{
    auto gen = adopt(json_generator_new());
    json_generator_set_root(gen.get(), node);
    return takeString(json_generator_to_data(gen.get(), nullptr));
}

namespace {
JsonNode *member(JsonObject *obj, const char *name)
{
    return obj ? json_object_get_member(obj, name) : nullptr;
}
bool isValueOfType(JsonNode *n, GType t)
{
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == t;
}
} // namespace

std::optional<std::string> stringMember(JsonObject *obj, const char *name)
{
    JsonNode *n = member(obj, name);
    if (!isValueOfType(n, G_TYPE_STRING))
        return std::nullopt;
    return std::string(json_node_get_string(n));
}

std::optional<bool> boolMember(JsonObject *obj, const char *name)
{
    JsonNode *n = member(obj, name);
    if (!isValueOfType(n, G_TYPE_BOOLEAN))
        return std::nullopt;
    return json_node_get_boolean(n) != FALSE;
}

std::optional<int64_t> intMember(JsonObject *obj, const char *name)
{
    JsonNode *n = member(obj, name);
    if (!isValueOfType(n, G_TYPE_INT64))
        return std::nullopt;
    return json_node_get_int(n);
}

std::optional<double> numberMember(JsonObject *obj, const char *name)
{
    JsonNode *n = member(obj, name);
    if (isValueOfType(n, G_TYPE_INT64))
        return static_cast<double>(json_node_get_int(n));
    if (isValueOfType(n, G_TYPE_DOUBLE))
        return json_node_get_double(n);
    return std::nullopt;
}

JsonObject *objectMember(JsonObject *obj, const char *name)
{
    JsonNode *n = member(obj, name);
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : nullptr;
}

JsonArray *arrayMember(JsonObject *obj, const char *name)
{
    JsonNode *n = member(obj, name);
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : nullptr;
}

bool hasMember(JsonObject *obj, const char *name)
{
    return obj && json_object_has_member(obj, name);
}

bool isNullMember(JsonObject *obj, const char *name)
{
    JsonNode *n = member(obj, name);
    return n && JSON_NODE_HOLDS_NULL(n);
}

ObjectBuilder::ObjectBuilder()
    : object_(adopt(json_object_new()))
{ }

ObjectBuilder &ObjectBuilder::set(const char *name, std::string_view value)
{
    json_object_set_member(object_.get(), name, stringNode(value).release());
    return *this;
}

ObjectBuilder &ObjectBuilder::set(const char *name, const char *value)
{
    if (!value)
        return setNull(name);
    return set(name, std::string_view(value));
}

ObjectBuilder &ObjectBuilder::set(const char *name, bool value)
{
    json_object_set_boolean_member(object_.get(), name, value);
    return *this;
}

ObjectBuilder &ObjectBuilder::set(const char *name, int64_t value)
{
    json_object_set_int_member(object_.get(), name, value);
    return *this;
}

ObjectBuilder &ObjectBuilder::set(const char *name, double value)
{
    json_object_set_double_member(object_.get(), name, value);
    return *this;
}

ObjectBuilder &ObjectBuilder::setNull(const char *name)
{
    json_object_set_null_member(object_.get(), name);
    return *this;
}

ObjectBuilder &ObjectBuilder::set(const char *name, GPtr<JsonNode> node)
{
    // json_object_set_member takes ownership of the node.
    json_object_set_member(
        object_.get(), name, node ? node.release() : json_node_new(JSON_NODE_NULL));
    return *this;
}

GPtr<JsonNode> ObjectBuilder::build()
{
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, object_.get()); // takes its own reference
    return adopt(node);
}

std::string ObjectBuilder::toString()
{
    auto node = build();
    return serialize(node.get());
}

GPtr<JsonNode> stringNode(std::string_view s)
{
    JsonNode *node = json_node_new(JSON_NODE_VALUE);
    std::string copy(s);
    json_node_set_string(node, copy.c_str());
    return adopt(node);
}

} // namespace rc::json
