// JSON parsing, typed member access and building over json-glib, with RAII nodes.
//
// Pure functions; safe on any thread (each call uses its own parser/generator).
#pragma once

#include "common/base/gptr.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rc::json {

// Deepest nesting of arrays/objects in text, counted outside string literals.
// Cheap pre-check so hostile input never reaches json-glib's recursive parser.
int nestingDepth(std::string_view text) noexcept;

// Parses UTF-8 JSON text. On failure returns null and fills error. Text nested
// deeper than maxDepth is refused without being parsed.
GPtr<JsonNode> parse(std::string_view text, std::string &error, int maxDepth = 32);

// Compact serialisation of a node.
std::string serialize(JsonNode *node);

// Typed member access; nullopt / nullptr when absent or of another type.
// Returned object/array pointers are borrowed from obj.
std::optional<std::string> stringMember(JsonObject *obj, const char *name);
std::optional<bool> boolMember(JsonObject *obj, const char *name);
std::optional<int64_t> intMember(JsonObject *obj, const char *name);
std::optional<double> numberMember(JsonObject *obj, const char *name);
JsonObject *objectMember(JsonObject *obj, const char *name);
JsonArray *arrayMember(JsonObject *obj, const char *name);
bool hasMember(JsonObject *obj, const char *name);
bool isNullMember(JsonObject *obj, const char *name);

// Builds one JSON object; members keep insertion order.
class ObjectBuilder
{
public:
    ObjectBuilder();
    ObjectBuilder &set(const char *name, std::string_view value);
    ObjectBuilder &set(const char *name, const char *value); // nullptr -> null
    ObjectBuilder &set(const char *name, bool value);
    ObjectBuilder &set(const char *name, int64_t value);
    ObjectBuilder &set(const char *name, int value)
    {
        return set(name, static_cast<int64_t>(value));
    }
    ObjectBuilder &set(const char *name, double value);
    ObjectBuilder &setNull(const char *name);
    // Adopts node (transfer full).
    ObjectBuilder &set(const char *name, GPtr<JsonNode> node);
    GPtr<JsonNode> build();
    std::string toString();

private:
    GPtr<JsonObject> object_;
};

// A new node holding a copy of s / an array node (adopts each element).
GPtr<JsonNode> stringNode(std::string_view s);

} // namespace rc::json
