// Validation of the per-output parameters a client sends (POST .../outputs) against the ones a
// template declares.
//
// Pure functions, safe on any thread. Only declared parameters pass; every
// value is checked for its kind, and URLs for their scheme, so that nothing a
// client sends can reach a pipeline unchecked (compare the gst-meet anti-model).
#pragma once

#include "common/base/url_redaction.h"

#include <json-glib/json-glib.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rc::ops {

enum class ParamKind { url, string, integer, secret };

// One parameter a template declares.
struct ParamSpec
{
    std::string name;
    ParamKind kind = ParamKind::string;
    std::vector<std::string> allowedSchemes; // url: lower-case schemes, e.g. {"rtmp", "rtmps"}
    bool required = false;
    size_t maxLength = 0; // 0 = the kind's default (url 2048, string 64, secret 256)
    int64_t minValue = std::numeric_limits<int64_t>::min(); // integer
    int64_t maxValue = std::numeric_limits<int64_t>::max(); // integer
    size_t minLength = 0; // secret: fewest characters (0 = 1)
    std::vector<std::string> allowedValues; // string: the only values allowed (empty: any)
};

// Validated values as text (integers in decimal), by parameter name.
using ParamValues = std::map<std::string, std::string>;

struct ParamError
{
    std::string param; // the offending name ("" for the params object itself)
    std::string message; // for the client: names the rule, never echoes a secret
};

struct ParamResult
{
    ParamValues values;
    std::optional<ParamError> error;
    bool ok() const noexcept { return !error; }
};

// Checks params (a JSON object, or nullptr for "no params") against specs:
// an undeclared name, a missing required one, a value of the wrong JSON type
// or an invalid value is an error. Strings must be 1..maxLength characters of
// [A-Za-z0-9._-] not starting with '.'; integers JSON integers in range; secrets
// minLength..maxLength characters of printable ASCII (messages never quote them).
ParamResult validateParams(const std::vector<ParamSpec> &specs, JsonObject *params);

// A URL an output may send to: RFC 3986 syntax, a scheme from allowedSchemes
// (compared case-insensitively), a host, a port in 1..65535 if given, no
// "." or ".." path segments (even percent-encoded), no encoded control
// characters, and only the characters [A-Za-z0-9-._~:/?#[]@&+,;=%]. An srt:// URL must
// be exactly srt://host:port (srtsink reads mode, passphrase, latency... from the query:
// those are the template's own parameters, never smuggled in a URL).
bool isAllowedUrl(const std::string &url, const std::vector<std::string> &allowedSchemes,
    size_t maxLength, std::string &why);

// The ops name of rc::redactUrl (common/base/url_redaction.h), kept for the
// callers that show an output's URL.
using ::rc::redactUrl;

// A secret's value (a passphrase): minLength..maxLength (0 = 1 / 256) printable ASCII
// characters. why never quotes the value.
bool isAcceptableSecret(
    const std::string &value, size_t minLength, size_t maxLength, std::string &why);

const char *paramKindName(ParamKind kind) noexcept;
// "a, b or c", for "must be one of ..." messages.
std::string joinValues(const std::vector<std::string> &values);
// "url", "string", "int"/"integer", "secret"; nullopt otherwise.
std::optional<ParamKind> parseParamKind(const std::string &text) noexcept;

} // namespace rc::ops
