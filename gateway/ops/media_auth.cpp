// SDP endpoint authorization: API token first, then the viewer room token; see media_auth.h.
#include "gateway/ops/media_auth.h"

#include "common/ops/http_json.h"
#include "common/ops/room_token.h"

namespace rc::ops {

MediaAuthResult checkMediaAuthorization(const char *authorizationHeader, std::string_view room,
    const MediaAuthConfig &config, std::chrono::system_clock::time_point now)
{
    if (!config.apiToken && !config.viewerSecret)
        return { true, MediaAuthKind::Open, {} };
    if (!authorizationHeader)
        return { false, MediaAuthKind::Open,
            "a valid 'Authorization: Bearer TOKEN' header is required" };
    auto presented = http::bearerToken(authorizationHeader);
    if (!presented)
        return { false, MediaAuthKind::Open, "the Authorization header is not 'Bearer TOKEN'" };
    if (config.apiToken && http::constantTimeEquals(*presented, *config.apiToken))
        return { true, MediaAuthKind::ApiToken, {} };
    if (!config.viewerSecret)
        return { false, MediaAuthKind::Open, "the token is not valid" };
    const int64_t seconds
        = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    auto checked = verifyRoomToken(*presented, *config.viewerSecret, room, seconds);
    if (!checked.ok)
        return { false, MediaAuthKind::RoomToken, std::move(checked.reason), checked.otherRoom };
    return { true, MediaAuthKind::RoomToken, {}, false };
}

} // namespace rc::ops
