// Join-token checks: the shared HS256 room-token verifier plus the 'hidden' claim; see
// token_verifier.h.
#include "signaling/token_verifier.h"

#include "common/base/json.h"
#include "common/ops/room_token.h"

namespace rc::signaling {

TokenVerifier::TokenVerifier(std::string secret)
    : secret_(std::move(secret))
{ }

TokenVerifier::Result TokenVerifier::verify(
    std::string_view token, std::string_view room, bool hidden, int64_t nowSeconds) const
{
    auto checked = ops::verifyRoomToken(token, secret_, room, nowSeconds);
    if (!checked.ok)
        return { false, std::move(checked.reason) };
    JsonObject *obj = json_node_get_object(checked.claims.get());
    bool tokenHidden = false;
    if (json::hasMember(obj, "hidden")) {
        auto h = json::boolMember(obj, "hidden");
        if (!h)
            return { false, "token's 'hidden' claim is not a boolean" };
        tokenHidden = *h;
    }
    if (hidden && !tokenHidden)
        return { false, "token does not allow joining hidden" };
    return { true, {} };
}

} // namespace rc::signaling
