// CORS origins of the control API: what --cors-origin accepts at start-up and which Origin header
// values are allowed.
#include "gateway/ops/cors_policy.h"

#include <catch2/catch.hpp>

using rc::ops::CorsPolicy;

namespace {

bool valid(const std::string &origin)
{
    std::string why;
    const bool ok = CorsPolicy::isValidOrigin(origin, why);
    INFO(origin << ": " << why);
    CHECK(ok == why.empty());
    return ok;
}

} // namespace

TEST_CASE("origins as browsers send them are accepted", "[cors]")
{
    CHECK(valid("*"));
    CHECK(valid("https://app.example.org"));
    CHECK(valid("http://127.0.0.1:5173"));
    CHECK(valid("https://[::1]:8443"));
    CHECK(valid("http://localhost"));
}

TEST_CASE("anything a browser would never send as Origin is refused with a reason", "[cors]")
{
    for (const char *bad : { "", "example.org", "ftp://example.org", "https://", "https://a.org/",
             "https://a.org/path", "https://a.org?x=1", "https://user@a.org", "https://A.org",
             "https://a.org:", "https://a.org:0", "https://a.org:65536", "https://a.org:08",
             "https://a.org:80x", "https://[]", "https://[::1", "https://[::1]x", "null",
             "https://a b.org" })
        CHECK_FALSE(valid(bad));
}

TEST_CASE("allowed origins match byte for byte; * allows any; none allows nothing", "[cors]")
{
    CorsPolicy none;
    CHECK_FALSE(none.enabled());
    CHECK_FALSE(none.allows("https://app.example.org"));

    CorsPolicy some({ "https://app.example.org", "http://127.0.0.1:8000" });
    CHECK(some.enabled());
    CHECK(some.allows("https://app.example.org"));
    CHECK(some.allows("http://127.0.0.1:8000"));
    CHECK_FALSE(some.allows("http://127.0.0.1:8001"));
    CHECK_FALSE(some.allows("http://app.example.org"));
    CHECK_FALSE(some.allows("https://app.example.org.evil.com"));
    CHECK_FALSE(some.allows(""));
    CHECK_FALSE(some.allows("null"));

    CorsPolicy any({ "*" });
    CHECK(any.allows("https://whoever.example"));
    CHECK_FALSE(any.allows("")); // no Origin header: not a cross-origin browser request
}
