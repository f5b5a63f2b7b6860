// Authorization of the SDP endpoints (WHEP viewers, WHIP publishers): the API token, or a
// room token (HS256 JWT with 'room' and 'exp') signed with the viewer secret.
//
// Pure code over immutable inputs: safe on any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rc::ops {

struct MediaAuthConfig
{
    std::optional<std::string> apiToken; // the control API's token; nullopt: none configured
    std::optional<std::string> viewerSecret; // --whep-token-secret-file's key; nullopt: no JWTs
};

enum class MediaAuthKind {
    Open, // neither a token nor a secret is configured (loopback-only API)
    ApiToken,
    RoomToken,
};

struct MediaAuthResult
{
    bool ok = false;
    MediaAuthKind kind = MediaAuthKind::Open;
    std::string reason; // why a request was refused (never contains the token)
    bool forbidden = false; // a valid token for another room: 403, not 401
};

// Whether authorizationHeader (the raw "Authorization" value, nullptr when absent) grants access
// to room's media at now. With neither an API token nor a viewer secret configured every
// request passes, like the rest of a token-less (loopback-only) API.
MediaAuthResult checkMediaAuthorization(const char *authorizationHeader, std::string_view room,
    const MediaAuthConfig &config, std::chrono::system_clock::time_point now);

} // namespace rc::ops
