// HS256 room tokens (JWTs with the claims room and exp): the one verifier shared by the room
// server's join tokens and the gateway's viewer/publisher tokens.
//
// Pure functions over immutable inputs: safe on any thread.
#pragma once

#include "common/base/gptr.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace rc::ops {

struct RoomTokenResult
{
    bool ok = false;
    std::string reason; // why a token was refused, for the error message and the log
    bool otherRoom = false; // valid and unexpired, but for another room (403 rather than 401)
    GPtr<JsonNode> claims; // the token's claims (a JSON object) when ok, for extra checks
};

// Whether token is an HS256 JWT signed with secret, unexpired at nowSeconds (seconds since the
// epoch, RFC 7519 4.1.4), whose 'room' claim is room or "*".
RoomTokenResult verifyRoomToken(
    std::string_view token, std::string_view secret, std::string_view room, int64_t nowSeconds);

} // namespace rc::ops
