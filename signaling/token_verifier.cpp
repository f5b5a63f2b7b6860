// JWT verification through libjwt; see token_verifier.h.
#include "signaling/token_verifier.h"

#include "common/base/json.h"

#include <jwt.h>

#include <cmath>
#include <cstdlib>
#include <memory>

namespace rc::signaling {
namespace {

struct JwtFree
{
    void operator()(jwt_t *p) const noexcept { jwt_free(p); }
};
struct MallocFree
{
    void operator()(char *p) const noexcept { std::free(p); }
};

TokenVerifier::Result refuse(std::string reason)
{
    return { false, std::move(reason) };
}

} // namespace

TokenVerifier::TokenVerifier(std::string secret)
    : secret_(std::move(secret))
{ }

TokenVerifier::Result TokenVerifier::verify(
    std::string_view token, std::string_view room, bool hidden, int64_t nowSeconds) const
{
    // A JWT is three base64url parts; anything else (and embedded NULs, which
    // libjwt's C string API would silently cut) is refused before decoding.
    if (token.empty() || token.size() > 8192 || token.find('\0') != std::string_view::npos)
        return refuse("malformed token");

    const std::string tokenText(token);
    jwt_t *raw = nullptr;
    const int rc = jwt_decode(&raw, tokenText.c_str(),
        reinterpret_cast<const unsigned char *>(secret_.data()), static_cast<int>(secret_.size()));
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
    if (*tokenRoom != "*" && *tokenRoom != room)
        return refuse("token is for another room");

    bool tokenHidden = false;
    if (json::hasMember(obj, "hidden")) {
        auto h = json::boolMember(obj, "hidden");
        if (!h)
            return refuse("token's 'hidden' claim is not a boolean");
        tokenHidden = *h;
    }
    if (hidden && !tokenHidden)
        return refuse("token does not allow joining hidden");
    return { true, {} };
}

} // namespace rc::signaling
