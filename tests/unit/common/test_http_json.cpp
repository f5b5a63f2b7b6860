// common/http_json: bearer tokens, constant-time comparison, HMAC-SHA256 vectors, error bodies.
#include "common/base/json.h"
#include "common/ops/http_json.h"

#include <catch2/catch.hpp>

using namespace rc::http;

TEST_CASE("bearer tokens are extracted strictly", "[http]")
{
    CHECK(bearerToken("Bearer abc.DEF-123_~+/==") == "abc.DEF-123_~+/==");
    CHECK(bearerToken("bearer  tok ") == "tok");
    CHECK_FALSE(bearerToken(nullptr));
    CHECK_FALSE(bearerToken(""));
    CHECK_FALSE(bearerToken("Bearer"));
    CHECK_FALSE(bearerToken("Bearer "));
    CHECK_FALSE(bearerToken("Bearertok"));
    CHECK_FALSE(bearerToken("Basic dXNlcjpwYXNz"));
    CHECK_FALSE(bearerToken("Bearer a b"));
    CHECK_FALSE(bearerToken("Bearer a=b"));
    CHECK_FALSE(bearerToken("Bearer \"tok\""));
}

TEST_CASE("constant-time comparison is still a comparison", "[http]")
{
    CHECK(constantTimeEquals("secret", "secret"));
    CHECK(constantTimeEquals("", ""));
    CHECK_FALSE(constantTimeEquals("secret", "secreT"));
    CHECK_FALSE(constantTimeEquals("secret", "secret2"));
    CHECK_FALSE(constantTimeEquals("secret", "secre"));
    CHECK_FALSE(constantTimeEquals("", "x"));
    CHECK_FALSE(constantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST_CASE("HMAC-SHA256 matches RFC 4231", "[http]")
{
    // RFC 4231 test case 2.
    CHECK(hmacSha256Hex("Jefe", "what do ya want for nothing?")
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 1: key = 20 bytes of 0x0b.
    CHECK(hmacSha256Hex(std::string(20, '\x0b'), "Hi There")
        == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST_CASE("error bodies are JSON with error and message", "[http]")
{
    std::string error;
    auto node = rc::json::parse(errorBody("not_found", "no \"such\" room"), error);
    REQUIRE(node);
    JsonObject *obj = json_node_get_object(node.get());
    CHECK(rc::json::stringMember(obj, "error") == "not_found");
    CHECK(rc::json::stringMember(obj, "message") == "no \"such\" room");
}
