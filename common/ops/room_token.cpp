// HS256 room-token verification through libjwt; see room_token.h.
#include "common/ops/room_token.h"

#include "common/base/json.h"

#include <jwt.h>

#include <cmath>
#include <cstdlib>
#include <memory>

namespace rc::ops {
namespace {

struct JwtFree
{
    void operator()(jwt_t *p) const noexcept { jwt_free(p); }
};
struct MallocFree
{
    void operator()(char *p) const noexcept { std::free(p); }
};

RoomTokenResult refuse(std::string reason)
{
    return { false, std::move(reason), false, nullptr };
}

} // namespace

RoomTokenResult verifyRoomToken(
    std::string_view token, std::string_view secret, std::string_view room, int64_t nowSeconds)
{
    // A JWT is three base64url parts; anything else (and embedded NULs, which
    // libjwt's C string API would silently cut) is refused before decoding.
    if (token.empty() || token.size() > 8192 || token.find('\0') != std::string_view::npos)
        return refuse("malformed token");

    const std::string tokenText(token);
    jwt_t *raw = nullptr;
    const int rc = jwt_decode(&raw, tokenText.c_str(),
        reinterpret_cast<const unsigned char *>(secret.data()), static_cast<int>(secret.size()));
    std::unique_ptr<jwt_t, JwtFree> jwt(raw);
    if (rc != 0 || !jwt)
        return refuse("token signature or format is invalid");
    // libjwt accepts any algorithm the token names; only HS256 is ours ("none"
    // and the other HMAC sizes are refused here).
    if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256)
        return refuse("token is not signed with HS256");

    std::unique_ptr<char, MallocFree> claimsText(jwt_get_grants_json(jwt.get(), nullptr));
    if (!claimsText)
        return refuse("token has no claims");
    std::string error;
    auto claims = json::parse(claimsText.get(), error);
    if (!claims || !JSON_NODE_HOLDS_OBJECT(claims.get()))
        return refuse("token claims are not a JSON object");
    JsonObject *obj = json_node_get_object(claims.get());

    auto exp = json::numberMember(obj, "exp");
    if (!exp || !std::isfinite(*exp))
        return refuse("token has no numeric 'exp' claim");
    // RFC 7519 4.1.4: the current time must be before the expiration time.
    if (static_cast<double>(nowSeconds) >= *exp)
        return refuse("token has expired");

    auto tokenRoom = json::stringMember(obj, "room");
    if (!tokenRoom)
        return refuse("token has no 'room' claim");
    if (*tokenRoom != "*" && *tokenRoom != room) {
        auto refused = refuse("token is for another room");
        refused.otherRoom = true;
        return refused;
    }
    return { true, {}, false, std::move(claims) };
}

} // namespace rc::ops
