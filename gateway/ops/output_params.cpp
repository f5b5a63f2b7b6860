// Per-output parameter checks and URL redaction; see output_params.h.
#include "gateway/ops/output_params.h"

#include "common/base/gptr.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace rc::ops {
namespace {

constexpr size_t kDefaultUrlLength = 2048;
constexpr size_t kDefaultStringLength = 64;
constexpr size_t kDefaultSecretLength = 256;

std::string lower(std::string s)
{
    for (char &c : s)
        c = g_ascii_tolower(c);
    return s;
}

bool isSafeString(const std::string &v, size_t maxLength)
{
    if (v.empty() || v.size() > maxLength || v.front() == '.')
        return false;
    return std::all_of(v.begin(), v.end(),
        [](char c) { return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; });
}

std::string percentDecode(const std::string &s, bool &hadControl)
{
    hadControl = false;
    char *decoded = g_uri_unescape_string(s.c_str(), nullptr);
    if (!decoded) {
        // An encoded NUL (or malformed escape) makes GLib refuse.
        hadControl = true;
        return {};
    }
    std::string out(decoded);
    g_free(decoded);
    for (unsigned char c : out)
        if (c < 0x20 || c == 0x7f)
            hadControl = true;
    return out;
}

} // namespace

bool isAcceptableSecret(
    const std::string &value, size_t minLength, size_t maxLength, std::string &why)
{
    if (minLength == 0)
        minLength = 1;
    if (maxLength == 0)
        maxLength = kDefaultSecretLength;
    if (value.size() < minLength || value.size() > maxLength
        || !std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
        why = "must be " + std::to_string(minLength) + ".." + std::to_string(maxLength)
            + " printable ASCII characters";
        return false;
    }
    return true;
}

const char *paramKindName(ParamKind kind) noexcept
{
    switch (kind) {
    case ParamKind::url:
        return "url";
    case ParamKind::string:
        return "string";
    case ParamKind::integer:
        return "int";
    case ParamKind::secret:
        return "secret";
    }
    return "?";
}

std::optional<ParamKind> parseParamKind(const std::string &text) noexcept
{
    if (text == "url")
        return ParamKind::url;
    if (text == "string")
        return ParamKind::string;
    if (text == "int" || text == "integer")
        return ParamKind::integer;
    if (text == "secret")
        return ParamKind::secret;
    return std::nullopt;
}

std::string joinValues(const std::vector<std::string> &values)
{
    std::string text;
    for (size_t i = 0; i < values.size(); ++i)
        text += (i == 0 ? "" : i + 1 == values.size() ? " or " : ", ") + values[i];
    return text;
}

bool isAllowedUrl(const std::string &url, const std::vector<std::string> &allowedSchemes,
    size_t maxLength, std::string &why)
{
    if (maxLength == 0)
        maxLength = kDefaultUrlLength;
    if (url.empty() || url.size() > maxLength) {
        why = "must be a URL of 1.." + std::to_string(maxLength) + " characters";
        return false;
    }
    for (char c : url) {
        if (!(g_ascii_isalnum(c) || std::strchr("-._~:/?#[]@&+,;=%", c))) {
            why = "contains a character not allowed in an output URL";
            return false;
        }
    }
    GError *rawError = nullptr;
    auto uri = adopt(g_uri_parse(url.c_str(), G_URI_FLAGS_ENCODED, &rawError));
    auto error = adopt(rawError);
    if (!uri) {
        why = "is not a valid URL";
        return false;
    }
    const std::string scheme = lower(g_uri_get_scheme(uri.get()));
    if (std::find(allowedSchemes.begin(), allowedSchemes.end(), scheme) == allowedSchemes.end()) {
        std::string allowed;
        for (const auto &s : allowedSchemes)
            allowed += (allowed.empty() ? "" : ", ") + s + "://";
        why = "scheme '" + scheme + "' is not allowed"
            + (allowed.empty() ? std::string() : " (allowed: " + allowed + ")");
        return false;
    }
    const char *host = g_uri_get_host(uri.get());
    if (!host || !*host) {
        why = "has no host";
        return false;
    }
    const int port = g_uri_get_port(uri.get());
    if (port == 0 || port > 65535) {
        why = "has an invalid port";
        return false;
    }
    if (scheme == "srt") {
        // srtsink takes mode=, passphrase=, latency=, streamid=... from the query: only the
        // address may come in the URL, the rest are the template's checked parameters.
        const char *srtPath = g_uri_get_path(uri.get());
        if (port < 0 || g_uri_get_userinfo(uri.get()) || g_uri_get_query(uri.get())
            || g_uri_get_fragment(uri.get()) || (srtPath && *srtPath && std::strcmp(srtPath, "/"))
            || url.find_first_of("?#") != std::string::npos) {
            why = "must be srt://host:port (no path, query or user info: latency and passphrase "
                  "are parameters of their own)";
            return false;
        }
    }
    bool control = false;
    (void)percentDecode(host, control);
    if (control) {
        why = "has control characters in the host";
        return false;
    }
    // The raw path, not g_uri_get_path(): GUri already removed dot segments,
    // and whatever uses the URL may not do the same.
    std::string path;
    if (auto authority = url.find("://"); authority != std::string::npos) {
        auto start = url.find('/', authority + 3);
        if (start != std::string::npos)
            path = url.substr(start, url.find_first_of("?#", start) - start);
    }
    size_t pos = 0;
    while (pos <= path.size()) {
        auto end = path.find('/', pos);
        std::string segment
            = path.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        const std::string decoded = percentDecode(segment, control);
        if (control) {
            why = "has encoded control characters in its path";
            return false;
        }
        if (decoded == "." || decoded == ".." || decoded.find('/') != std::string::npos
            || decoded.find('\\') != std::string::npos) {
            why = "has a path segment that escapes its folder";
            return false;
        }
        if (end == std::string::npos)
            break;
        pos = end + 1;
    }
    for (const char *part : { g_uri_get_query(uri.get()), g_uri_get_fragment(uri.get()),
             g_uri_get_userinfo(uri.get()) }) {
        if (part) {
            (void)percentDecode(part, control);
            if (control) {
                why = "has encoded control characters";
                return false;
            }
        }
    }
    return true;
}

ParamResult validateParams(const std::vector<ParamSpec> &specs, JsonObject *params)
{
    ParamResult result;
    auto fail = [&](const std::string &name, const std::string &message) {
        result.values.clear();
        result.error = ParamError { name, message };
        return result;
    };
    std::set<std::string> seen;
    if (params) {
        GList *members = json_object_get_members(params);
        std::vector<std::string> names;
        for (GList *l = members; l; l = l->next)
            names.emplace_back(static_cast<const char *>(l->data));
        g_list_free(members);
        std::sort(names.begin(), names.end());
        for (const auto &name : names) {
            auto spec = std::find_if(
                specs.begin(), specs.end(), [&](const ParamSpec &s) { return s.name == name; });
            if (spec == specs.end())
                return fail(name, "parameter is not declared by this pipeline");
            JsonNode *node = json_object_get_member(params, name.c_str());
            const bool isValue = node && JSON_NODE_HOLDS_VALUE(node);
            const GType type = isValue ? json_node_get_value_type(node) : G_TYPE_INVALID;
            std::string why;
            switch (spec->kind) {
            case ParamKind::url: {
                if (type != G_TYPE_STRING)
                    return fail(name, "must be a string (URL)");
                std::string v = json_node_get_string(node);
                if (!isAllowedUrl(v, spec->allowedSchemes, spec->maxLength, why))
                    return fail(name, "URL " + why);
                result.values[name] = v;
                break;
            }
            case ParamKind::string: {
                if (type != G_TYPE_STRING)
                    return fail(name, "must be a string");
                std::string v = json_node_get_string(node);
                const size_t max = spec->maxLength ? spec->maxLength : kDefaultStringLength;
                if (!isSafeString(v, max))
                    return fail(name,
                        "must be 1.." + std::to_string(max)
                            + " characters of [A-Za-z0-9._-], not starting with '.'");
                if (!spec->allowedValues.empty()
                    && std::find(spec->allowedValues.begin(), spec->allowedValues.end(), v)
                        == spec->allowedValues.end())
                    return fail(name, "must be one of " + joinValues(spec->allowedValues));
                result.values[name] = v;
                break;
            }
            case ParamKind::secret: {
                if (type != G_TYPE_STRING)
                    return fail(name, "must be a string");
                std::string v = json_node_get_string(node);
                std::string bad;
                if (!isAcceptableSecret(v, spec->minLength, spec->maxLength, bad))
                    return fail(name, bad);
                result.values[name] = v;
                break;
            }
            case ParamKind::integer: {
                if (type != G_TYPE_INT64)
                    return fail(name, "must be an integer");
                const int64_t v = json_node_get_int(node);
                if (v < spec->minValue || v > spec->maxValue)
                    return fail(name,
                        "must be in " + std::to_string(spec->minValue) + ".."
                            + std::to_string(spec->maxValue));
                result.values[name] = std::to_string(v);
                break;
            }
            }
            seen.insert(name);
        }
    }
    for (const auto &spec : specs)
        if (spec.required && !seen.count(spec.name))
            return fail(spec.name, "required parameter is missing");
    return result;
}

} // namespace rc::ops
