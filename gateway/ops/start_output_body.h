// Parsing of the control API's POST .../outputs body, split out of ControlApi so it is pure and
// fuzzable.
//
// Pure functions, safe on any thread. The body is untrusted bytes from an
// authenticated client; nothing here touches libsoup, so tests/fuzz can feed
// it directly.
#pragma once

#include "common/base/gptr.h"

#include <json-glib/json-glib.h>

#include <string>
#include <variant>

namespace rc::ops {

// Output ids appear in paths and in backend replies; pipeline names are
// template file stems, so they share the id alphabet with a shorter limit.
bool isOutputId(const std::string &s);
bool isPipelineName(const std::string &s);

// A well-formed start request. `params` points into `root` (nullptr when the
// body had none), so it lives as long as this value.
struct StartOutputBody
{
    GPtr<JsonNode> root;
    std::string pipeline;
    JsonObject *params = nullptr;
};

// Why a body was refused: the message and machine code of a 400 reply.
struct BodyError
{
    std::string message;
    std::string code;
};

std::variant<StartOutputBody, BodyError> parseStartOutputBody(
    const std::string &text, int maxJsonDepth);

} // namespace rc::ops
