// Output parameter validation: only declared params, checked kinds, URL schemes, no path escapes;
// URL redaction.
#include "common/base/json.h"
#include "gateway/ops/output_params.h"

#include <catch2/catch.hpp>

using namespace rc::ops;

namespace {

const std::vector<ParamSpec> kRtmp = {
    { "rtmp_url", ParamKind::url, { "rtmp", "rtmps" }, true },
};
const std::vector<ParamSpec> kMixed = {
    { "rtmp_url", ParamKind::url, { "rtmp" }, false },
    { "label", ParamKind::string, {}, false, 16 },
    { "segment_seconds", ParamKind::integer, {}, false, 0, 1, 60 },
};

ParamResult check(const std::vector<ParamSpec> &specs, const std::string &paramsJson)
{
    std::string error;
    auto node = rc::json::parse(paramsJson, error);
    REQUIRE(node);
    REQUIRE(JSON_NODE_HOLDS_OBJECT(node.get()));
    return validateParams(specs, json_node_get_object(node.get()));
}

} // namespace

TEST_CASE("declared, well-formed params pass", "[params]")
{
    auto r = check(kRtmp, R"({"rtmp_url": "rtmp://live.example.com/app/key-123"})");
    REQUIRE(r.ok());
    CHECK(r.values.at("rtmp_url") == "rtmp://live.example.com/app/key-123");

    r = check(kRtmp, R"({"rtmp_url": "RTMPS://live.example.com:443/app/key?x=1&y=2"})");
    CHECK(r.ok());

    r = check(kMixed, R"({"label": "cam-1", "segment_seconds": 6})");
    REQUIRE(r.ok());
    CHECK(r.values.at("label") == "cam-1");
    CHECK(r.values.at("segment_seconds") == "6");
    CHECK(r.values.count("rtmp_url") == 0);

    // No params object at all is fine when nothing is required.
    CHECK(validateParams(kMixed, nullptr).ok());
}

TEST_CASE("undeclared, missing and mistyped params fail", "[params]")
{
    auto r = check(kRtmp, R"({"rtmp_url": "rtmp://h/a/k", "location": "/etc/passwd"})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error->param == "location");
    CHECK(r.error->message.find("not declared") != std::string::npos);
    CHECK(r.values.empty());

    r = check(kRtmp, R"({})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error->param == "rtmp_url");
    CHECK_FALSE(validateParams(kRtmp, nullptr).ok());

    for (const char *body :
        { R"({"rtmp_url": 5})", R"({"rtmp_url": null})", R"({"rtmp_url": ["rtmp://h/a"]})",
            R"({"rtmp_url": {"u": 1}})", R"({"rtmp_url": true})" }) {
        INFO(body);
        CHECK_FALSE(check(kRtmp, body).ok());
    }
    for (const char *body : { R"({"segment_seconds": "6"})", R"({"segment_seconds": 6.5})",
             R"({"segment_seconds": 0})", R"({"segment_seconds": 61})", R"({"label": "a b"})",
             R"({"label": ".hidden"})", R"({"label": ""})", R"({"label": "x!fakesink"})",
             R"({"label": "aaaaaaaaaaaaaaaaa"})", R"({"label": 7})" }) {
        INFO(body);
        CHECK_FALSE(check(kMixed, body).ok());
    }
}

TEST_CASE("URLs are limited to the template's schemes and cannot escape", "[params][url]")
{
    const std::vector<std::string> rtmp = { "rtmp", "rtmps" };
    std::string why;
    CHECK(isAllowedUrl("rtmp://127.0.0.1:1935/live/stream", rtmp, 0, why));
    CHECK(isAllowedUrl("rtmp://[::1]:1935/live/stream", rtmp, 0, why));

    const char *refused[] = {
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "http://example.com/live",
        "rtmp:///live/key", // no host
        "rtmp:/live/key",
        "rtmp://host:0/live", // port 0
        "rtmp://host:99999/live",
        "rtmp://host/live/../../../etc/passwd",
        "rtmp://host/live/%2e%2e/secret",
        "rtmp://host/live/%2E%2e%2Fx",
        "rtmp://host/live/a%2fb",
        "rtmp://host/live/%00",
        "rtmp://host/live/a%0d%0aX-Injected: 1",
        "rtmp://host/live/key with space",
        "rtmp://host/live/\"quoted\"",
        "rtmp://host/live/$HOME",
        "rtmp://host/live/x ! filesink location=/tmp/x",
        "rtmp://host/live/'x'",
        "rtmp://host/live\\..\\x",
        "rtmp://host/%",
        "",
        "rtmp",
        "//host/live",
    };
    for (const char *url : refused) {
        INFO(url);
        CHECK_FALSE(isAllowedUrl(url, rtmp, 0, why));
    }
    CHECK_FALSE(isAllowedUrl("rtmp://h/" + std::string(3000, 'a'), rtmp, 0, why));
    CHECK_FALSE(isAllowedUrl("rtmp://h/aaaa", rtmp, 10, why));
    CHECK_FALSE(isAllowedUrl("rtmp://h/a", {}, 0, why)); // a template that allows no scheme

    CHECK_FALSE(isAllowedUrl("file:///etc/passwd", rtmp, 0, why));
    CHECK(why.find("scheme 'file' is not allowed") != std::string::npos);
    CHECK(why.find("rtmp://") != std::string::npos);
}

TEST_CASE("the ops name of redactUrl is rc::redactUrl", "[params][url]")
{
    CHECK(redactUrl("rtmp://host/app/key") == "rtmp://host/app/***");
}

TEST_CASE("param kinds have names", "[params]")
{
    CHECK(parseParamKind("url") == ParamKind::url);
    CHECK(parseParamKind("int") == ParamKind::integer);
    CHECK(parseParamKind("integer") == ParamKind::integer);
    CHECK(parseParamKind("string") == ParamKind::string);
    CHECK_FALSE(parseParamKind("path"));
    CHECK(std::string(paramKindName(ParamKind::url)) == "url");
}

TEST_CASE(
    "srt URLs carry only an address: options are parameters of their own", "[params][url][srt]")
{
    std::string why;
    const std::vector<std::string> srt = { "srt" };
    CHECK(isAllowedUrl("srt://127.0.0.1:9000", srt, 0, why));
    CHECK(isAllowedUrl("srt://receiver.example.net:9000/", srt, 0, why));
    CHECK(isAllowedUrl("srt://[::1]:9000", srt, 0, why));
    for (const char *url :
        { "srt://127.0.0.1:9000?passphrase=letmeinplease", // would bypass the secret parameter
            "srt://127.0.0.1:9000?mode=listener", // would bind instead of calling
            "srt://127.0.0.1:9000?", "srt://127.0.0.1:9000#x", "srt://127.0.0.1", // no port
            "srt://user:pw@127.0.0.1:9000", "srt://127.0.0.1:9000/live", "srt://:9000" }) {
        INFO(url);
        why.clear();
        CHECK_FALSE(isAllowedUrl(url, srt, 0, why));
        CHECK_FALSE(why.empty());
        CHECK(why.find("letmeinplease") == std::string::npos);
    }
}

TEST_CASE("secrets: bounded printable text, never quoted back", "[params][secret]")
{
    ParamSpec spec { "passphrase", ParamKind::secret, {}, false, 79 };
    spec.minLength = 10;
    const std::vector<ParamSpec> specs = { spec };
    auto ok = check(specs, R"({"passphrase": "correct horse 77!"})");
    REQUIRE(ok.ok());
    CHECK(ok.values.at("passphrase") == "correct horse 77!");
    for (const char *body : { R"({"passphrase": "short"})", R"({"passphrase": 12345678901})",
             R"({"passphrase": "tab\there-and-more"})",
             "{\"passphrase\": \""
             "0123456789012345678901234567890123456789012345678901234567890123456789012345678901\""
             "}" }) {
        INFO(body);
        auto bad = check(specs, body);
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error->param == "passphrase");
        for (const char *value : { "short", "here-and-more", "0123456789" })
            CHECK(bad.error->message.find(value) == std::string::npos);
    }
    std::string why;
    CHECK(isAcceptableSecret("0123456789", 10, 79, why));
    CHECK_FALSE(isAcceptableSecret("012345678", 10, 79, why));
    CHECK(std::string(paramKindName(ParamKind::secret)) == "secret");
    CHECK(parseParamKind("secret") == ParamKind::secret);
}

TEST_CASE("a string with allowed values takes only those", "[params]")
{
    ParamSpec spec { "preset", ParamKind::string };
    spec.allowedValues = { "ultrafast", "superfast", "veryfast" };
    const std::vector<ParamSpec> specs = { spec };
    auto ok = check(specs, R"({"preset": "ultrafast"})");
    REQUIRE(ok.ok());
    CHECK(ok.values.at("preset") == "ultrafast");
    for (const char *body : { R"({"preset": "placebo"})", R"({"preset": "Ultrafast"})",
             R"({"preset": "ultrafast "})", R"({"preset": 3})" }) {
        INFO(body);
        auto bad = check(specs, body);
        REQUIRE_FALSE(bad.ok());
    }
    auto bad = check(specs, R"({"preset": "placebo"})");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error->message.find("must be one of ultrafast, superfast or veryfast")
        != std::string::npos);
}
