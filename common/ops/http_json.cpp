// JSON replies, bearer tokens and HMAC for HTTP; see http_json.h.
#include "common/ops/http_json.h"

#include "common/base/json.h"

#include <cstring>

namespace rc::http {

void replyJson(SoupServerMessage *msg, guint status, std::string_view body)
{
    soup_server_message_set_status(msg, status, nullptr);
    SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    soup_server_message_set_response(
        msg, "application/json", SOUP_MEMORY_COPY, body.data(), body.size());
}

void replyJson(SoupServerMessage *msg, guint status, JsonNode *body)
{
    replyJson(msg, status, json::serialize(body));
}

std::string errorBody(std::string_view code, std::string_view message)
{
    return json::ObjectBuilder().set("error", code).set("message", message).toString();
}

void replyError(
    SoupServerMessage *msg, guint status, std::string_view code, std::string_view message)
{
    replyJson(msg, status, errorBody(code, message));
}

std::optional<std::string> bearerToken(const char *authorization)
{
    if (!authorization)
        return std::nullopt;
    std::string_view v(authorization);
    constexpr std::string_view scheme = "bearer";
    if (v.size() <= scheme.size()
        || g_ascii_strncasecmp(v.data(), scheme.data(), scheme.size()) != 0)
        return std::nullopt;
    v.remove_prefix(scheme.size());
    if (v.empty() || v.front() != ' ')
        return std::nullopt;
    while (!v.empty() && v.front() == ' ')
        v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ')
        v.remove_suffix(1);
    if (v.empty())
        return std::nullopt;
    // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    size_t i = 0;
    for (; i < v.size(); ++i) {
        const char c = v[i];
        if (!(g_ascii_isalnum(c) || std::strchr("-._~+/", c)))
            break;
    }
    if (i == 0)
        return std::nullopt;
    for (; i < v.size(); ++i)
        if (v[i] != '=')
            return std::nullopt;
    return std::string(v);
}

bool constantTimeEquals(std::string_view a, std::string_view b) noexcept
{
    // Walk the longer length so that the time does not reveal a prefix match;
    // a length difference is folded into the result.
    const size_t n = a.size() > b.size() ? a.size() : b.size();
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<unsigned char>(x ^ y);
    }
    // volatile keeps the compiler from turning the loop into an early-exit memcmp.
    volatile unsigned char result = diff;
    return result == 0;
}

std::string hmacSha256Hex(std::string_view key, std::string_view data)
{
    return takeString(
        g_compute_hmac_for_data(G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(key.data()),
            key.size(), reinterpret_cast<const guchar *>(data.data()), data.size()));
}

} // namespace rc::http
