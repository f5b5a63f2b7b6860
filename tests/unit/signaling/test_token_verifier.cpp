// Join tokens: HS256 JWTs with room, hidden and exp, checked exactly as the spec says.
#include "signaling/token_verifier.h"

#include <jwt.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>

using rc::signaling::TokenVerifier;

namespace {

constexpr int64_t kNow = 1'700'000'000;
const std::string kSecret = "correct horse battery staple";

// Tokens are made with libjwt, as a real issuer would.
std::string token(const std::string &secret, const std::optional<std::string> &room,
    std::optional<bool> hidden, std::optional<long> exp, jwt_alg_t alg = JWT_ALG_HS256,
    const char *extraGrantsJson = nullptr)
{
    jwt_t *jwt = nullptr;
    REQUIRE(jwt_new(&jwt) == 0);
    if (room)
        jwt_add_grant(jwt, "room", room->c_str());
    if (hidden)
        jwt_add_grant_bool(jwt, "hidden", *hidden);
    if (exp)
        jwt_add_grant_int(jwt, "exp", *exp);
    if (extraGrantsJson)
        jwt_add_grants_json(jwt, extraGrantsJson);
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

bool accepted(const std::string &tok, const std::string &room, bool hidden)
{
    auto r = TokenVerifier(kSecret).verify(tok, room, hidden, kNow);
    INFO(r.reason);
    return r.ok;
}

} // namespace

TEST_CASE("a good token for the room is accepted")
{
    CHECK(accepted(token(kSecret, "standup", std::nullopt, kNow + 60), "standup", false));
    CHECK(accepted(token(kSecret, "standup", false, kNow + 1), "standup", false));
}

TEST_CASE("room '*' is any room")
{
    CHECK(accepted(token(kSecret, "*", std::nullopt, kNow + 60), "standup", false));
    CHECK(accepted(token(kSecret, "*", true, kNow + 60), "other", true));
}

TEST_CASE("a token for another room is refused")
{
    CHECK_FALSE(accepted(token(kSecret, "standup", std::nullopt, kNow + 60), "retro", false));
    CHECK_FALSE(accepted(token(kSecret, "Standup", std::nullopt, kNow + 60), "standup", false));
}

TEST_CASE("an expired token is refused, exp must be present and numeric")
{
    CHECK_FALSE(accepted(token(kSecret, "r", std::nullopt, kNow), "r", false));
    CHECK_FALSE(accepted(token(kSecret, "r", std::nullopt, kNow - 3600), "r", false));
    CHECK_FALSE(accepted(token(kSecret, "r", std::nullopt, std::nullopt), "r", false));
    CHECK_FALSE(accepted(
        token(kSecret, "r", std::nullopt, std::nullopt, JWT_ALG_HS256, R"({"exp":"never"})"), "r",
        false));
    CHECK(accepted(
        token(kSecret, "r", std::nullopt, std::nullopt, JWT_ALG_HS256, R"({"exp":1700000060.5})"),
        "r", false));
}

TEST_CASE("hidden needs hidden: true in the token")
{
    CHECK(accepted(token(kSecret, "r", true, kNow + 60), "r", true));
    CHECK_FALSE(accepted(token(kSecret, "r", std::nullopt, kNow + 60), "r", true));
    CHECK_FALSE(accepted(token(kSecret, "r", false, kNow + 60), "r", true));
    CHECK_FALSE(
        accepted(token(kSecret, "r", std::nullopt, kNow + 60, JWT_ALG_HS256, R"({"hidden":"yes"})"),
            "r", true));
    // A hidden grant does not force a visible join to be hidden.
    CHECK(accepted(token(kSecret, "r", true, kNow + 60), "r", false));
}

TEST_CASE("a token signed with another key is refused")
{
    CHECK_FALSE(accepted(token("wrong key", "r", true, kNow + 60), "r", false));
    CHECK_FALSE(accepted(token(kSecret + " ", "r", true, kNow + 60), "r", false));
}

TEST_CASE("alg none and algorithms other than HS256 are refused")
{
    CHECK_FALSE(accepted(token(kSecret, "r", true, kNow + 60, JWT_ALG_NONE), "r", false));
    CHECK_FALSE(accepted(token(kSecret, "r", true, kNow + 60, JWT_ALG_HS384), "r", false));
    CHECK_FALSE(accepted(token(kSecret, "r", true, kNow + 60, JWT_ALG_HS512), "r", false));
    // A hand-made unsigned token: {"alg":"none"} . {"room":"r","hidden":true,"exp":9999999999} .
    CHECK_FALSE(
        accepted("eyJhbGciOiJub25lIn0.eyJyb29tIjoiciIsImhpZGRlbiI6dHJ1ZSwiZXhwIjo5OTk5OTk5OTk5fQ.",
            "r", true));
}

TEST_CASE("malformed tokens are refused")
{
    for (const std::string &t :
        { std::string(), std::string("abc"), std::string("a.b.c"), std::string("...."),
            std::string(10000, 'a'), std::string("eyJhbGciOiJIUzI1NiJ9\0.x.y", 26) }) {
        CHECK_FALSE(accepted(t, "r", false));
    }
    // A room claim that is not a string.
    CHECK_FALSE(accepted(
        token(kSecret, std::nullopt, std::nullopt, kNow + 60, JWT_ALG_HS256, R"({"room":5})"), "r",
        false));
    CHECK_FALSE(accepted(token(kSecret, std::nullopt, std::nullopt, kNow + 60), "r", false));
}
