// Checks join tokens: HS256 JWTs with the claims room, hidden and exp (spec, "Hidden members and
// tokens").
//
// Owned by the RoomServer (or a test); immutable after construction, so it is
// safe on any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rc::signaling {

class TokenVerifier
{
public:
    // secret: the HMAC key, already stripped of trailing whitespace.
    explicit TokenVerifier(std::string secret);

    struct Result
    {
        bool ok = false;
        std::string reason; // why a token was refused, for the error message and the log
    };

    // Whether token lets its holder join room, hidden or not, at nowSeconds
    // (seconds since the epoch).
    Result verify(
        std::string_view token, std::string_view room, bool hidden, int64_t nowSeconds) const;

private:
    std::string secret_;
};

} // namespace rc::signaling
