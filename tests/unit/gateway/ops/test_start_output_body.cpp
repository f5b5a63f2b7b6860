// Unit tests of parseStartOutputBody: the POST .../outputs body rules, in the order ControlApi
// answers them.
#include "gateway/ops/start_output_body.h"

#include <catch2/catch.hpp>

#include <string>
#include <variant>

using namespace rc::ops;

namespace {

BodyError refusal(const std::string &text)
{
    auto parsed = parseStartOutputBody(text, 32);
    REQUIRE(std::holds_alternative<BodyError>(parsed));
    return std::get<BodyError>(parsed);
}

} // namespace

TEST_CASE("a start body names a pipeline and may carry params", "[ops][body]")
{
    auto parsed = parseStartOutputBody(R"({"pipeline":"rtmp","params":{"url":"rtmp://h/a"}})", 32);
    REQUIRE(std::holds_alternative<StartOutputBody>(parsed));
    const auto &body = std::get<StartOutputBody>(parsed);
    CHECK(body.pipeline == "rtmp");
    REQUIRE(body.params != nullptr);
    CHECK(json_object_has_member(body.params, "url"));

    auto bare = parseStartOutputBody(R"({"pipeline":"record-mkv"})", 32);
    REQUIRE(std::holds_alternative<StartOutputBody>(bare));
    CHECK(std::get<StartOutputBody>(bare).params == nullptr);
}

TEST_CASE("a start body is refused with the API's codes", "[ops][body]")
{
    CHECK(refusal("{").code == "invalid_json");
    CHECK(refusal("[]").message == "the body must be a JSON object");
    CHECK(refusal(R"({"pipeline":"rtmp","x":1})").message == "unknown field 'x'");
    CHECK(refusal(R"({"pipeline":3})").message == "'pipeline' must be a string");
    CHECK(refusal(R"({"pipeline":"../etc"})").code == "unknown_pipeline");
    CHECK(refusal(R"({"pipeline":"rtmp","params":[]})").message == "'params' must be an object");
    // The pipeline name is checked before params, as ControlApi always did.
    CHECK(refusal(R"({"pipeline":".x","params":1})").code == "unknown_pipeline");
    CHECK(refusal(std::string(40, '[') + std::string(40, ']')).code == "invalid_json");
}

TEST_CASE("output ids and pipeline names share one alphabet", "[ops][body]")
{
    CHECK(isOutputId("rtmp-1.a_b"));
    CHECK_FALSE(isOutputId(".hidden"));
    CHECK_FALSE(isOutputId("a/b"));
    CHECK(isOutputId(std::string(128, 'a')));
    CHECK_FALSE(isPipelineName(std::string(65, 'a')));
}
