// JSON-over-HTTP helpers for libsoup servers: JSON replies and errors, bearer tokens, HMAC-SHA256.
//
// The reply functions act on a SoupServerMessage and so belong to the thread
// of the server's GMainContext; the pure functions are safe on any thread.
#pragma once

#include "common/base/gptr.h"

#include <libsoup/soup.h>

#include <optional>
#include <string>
#include <string_view>

namespace rc::http {

// Sets status, Content-Type: application/json and the body (a copy).
void replyJson(SoupServerMessage *msg, guint status, std::string_view body);
void replyJson(SoupServerMessage *msg, guint status, JsonNode *body);

// {"error": code, "message": message} with status.
std::string errorBody(std::string_view code, std::string_view message);
void replyError(
    SoupServerMessage *msg, guint status, std::string_view code, std::string_view message);

// The token of an "Authorization: Bearer TOKEN" header value (scheme
// case-insensitive, RFC 6750 token68 characters only); nullopt otherwise.
std::optional<std::string> bearerToken(const char *authorization);

// Compares in time that depends only on the lengths, never on where the
// first difference is (no early exit on a byte mismatch).
bool constantTimeEquals(std::string_view a, std::string_view b) noexcept;

// Lower-case hex HMAC-SHA256 of data under key (GLib's GHmac).
std::string hmacSha256Hex(std::string_view key, std::string_view data);

} // namespace rc::http
