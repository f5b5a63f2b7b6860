// SDP endpoint authorization: API token, viewer room tokens (HS256, room, exp), and refusals.
#include "gateway/ops/media_auth.h"

#include <jwt.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>

using namespace rc::ops;

namespace {

const std::string kApiToken = "api-token_value.1";
const std::string kSecret = "viewer secret, long enough";
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
constexpr long kNowSeconds = 1'700'000'000;

// Tokens are made with libjwt, as a real issuer would.
std::string token(const std::string &secret, const std::optional<std::string> &room,
    std::optional<long> exp, jwt_alg_t alg = JWT_ALG_HS256)
{
    jwt_t *jwt = nullptr;
    REQUIRE(jwt_new(&jwt) == 0);
    if (room)
        jwt_add_grant(jwt, "room", room->c_str());
    if (exp)
        jwt_add_grant_int(jwt, "exp", *exp);
    if (alg == JWT_ALG_NONE)
        jwt_set_alg(jwt, JWT_ALG_NONE, nullptr, 0);
    else
        jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char *>(secret.data()),
            static_cast<int>(secret.size()));
    char *s = jwt_encode_str(jwt);
    std::string out = s ? s : "";
    std::free(s);
    jwt_free(jwt);
    return out;
}

MediaAuthResult check(const std::string &header, const std::string &room = "lobby",
    MediaAuthConfig config = { kApiToken, kSecret })
{
    return checkMediaAuthorization(header.c_str(), room, config, kNow);
}

} // namespace

TEST_CASE("the API token opens every room's media", "[media-auth]")
{
    auto r = check("Bearer " + kApiToken);
    CHECK(r.ok);
    CHECK(r.kind == MediaAuthKind::ApiToken);
    CHECK(check("bearer " + kApiToken, "studio").ok); // the scheme is case-insensitive
    // Without a viewer secret the API token still works, room tokens do not.
    CHECK(check("Bearer " + kApiToken, "lobby", { kApiToken, std::nullopt }).ok);
    CHECK_FALSE(check(
        "Bearer " + token(kSecret, "lobby", kNowSeconds + 60), "lobby", { kApiToken, std::nullopt })
                    .ok);
}

TEST_CASE("a viewer token opens its own room until it expires", "[media-auth]")
{
    const std::string good = token(kSecret, "lobby", kNowSeconds + 60);
    auto r = check("Bearer " + good);
    CHECK(r.ok);
    CHECK(r.kind == MediaAuthKind::RoomToken);
    CHECK(check("Bearer " + token(kSecret, "*", kNowSeconds + 60), "studio").ok);

    // Another room: valid token, but forbidden (403), not unauthenticated.
    r = check("Bearer " + good, "studio");
    CHECK_FALSE(r.ok);
    CHECK(r.forbidden);
    CHECK(r.reason.find("another room") != std::string::npos);

    // Expired at exactly exp (RFC 7519: now must be before exp).
    r = check("Bearer " + token(kSecret, "lobby", kNowSeconds));
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.forbidden);
    CHECK(r.reason.find("expired") != std::string::npos);
    // Also valid with no API token configured.
    CHECK(check("Bearer " + good, "lobby", { std::nullopt, kSecret }).ok);
}

TEST_CASE("forged, malformed and missing tokens are refused", "[media-auth]")
{
    const std::vector<std::string> bad = {
        "Bearer " + token("another secret", "lobby", kNowSeconds + 60),
        "Bearer " + token(kSecret, "lobby", kNowSeconds + 60, JWT_ALG_HS512),
        "Bearer " + token(kSecret, "lobby", kNowSeconds + 60, JWT_ALG_NONE),
        "Bearer " + token(kSecret, std::nullopt, kNowSeconds + 60),
        "Bearer " + token(kSecret, "lobby", std::nullopt),
        "Bearer " + kApiToken + "x",
        "Basic " + kApiToken,
        "Bearer",
        "",
        kApiToken,
    };
    for (const auto &h : bad) {
        INFO(h);
        auto r = check(h);
        CHECK_FALSE(r.ok);
        CHECK_FALSE(r.forbidden);
        CHECK_FALSE(r.reason.empty());
        CHECK(r.reason.find(kApiToken) == std::string::npos);
    }
    auto r = checkMediaAuthorization(nullptr, "lobby", { kApiToken, kSecret }, kNow);
    CHECK_FALSE(r.ok);
}

TEST_CASE("with neither a token nor a secret the media endpoints are open", "[media-auth]")
{
    auto r = checkMediaAuthorization(nullptr, "lobby", {}, kNow);
    CHECK(r.ok);
    CHECK(r.kind == MediaAuthKind::Open);
}
