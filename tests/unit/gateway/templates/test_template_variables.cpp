// Tests of the ${variable} whitelist and its substitution.
#include "gateway/templates/template_variables.h"

#include <catch2/catch.hpp>

using namespace rc::gateway;

namespace {
TemplateVariables goodVars()
{
    return { "standup", "p1", "20261124T041500Z", "/srv/rec" };
}
} // namespace

TEST_CASE("expandVariables substitutes the whitelisted variables", "[variables]")
{
    CHECK(expandVariables("a ${room} b ${participant} c ${session_start}", goodVars())
        == "a standup b p1 c 20261124T041500Z");
    CHECK(expandVariables("no placeholders", goodVars()) == "no placeholders");
    CHECK(expandVariables("$$ and $x and trailing $", goodVars()) == "$ and $x and trailing $");
}

TEST_CASE("expandVariables rejects unknown and forbidden names", "[variables]")
{
    CHECK_THROWS_AS(expandVariables("${name}", goodVars()), std::invalid_argument);
    CHECK_THROWS_AS(expandVariables("${display_name}", goodVars()), std::invalid_argument);
    CHECK_THROWS_WITH(expandVariables("location=${recordings_dir}/x", goodVars()),
        Catch::Contains("recordings_dir"));
    CHECK_THROWS_AS(expandVariables("${ROOM}", goodVars()), std::invalid_argument);
    CHECK_THROWS_AS(expandVariables("${}", goodVars()), std::invalid_argument);
    CHECK_THROWS_AS(expandVariables("${room", goodVars()), std::invalid_argument);
    CHECK_THROWS_AS(expandVariables("${ro om}", goodVars()), std::invalid_argument);
}

TEST_CASE("expandVariables refuses hostile values that are used", "[variables][injection]")
{
    const std::vector<std::string> hostile = {
        "x ! filesink location=/tmp/pwn",
        "../../etc",
        "..",
        ".",
        ".hidden",
        "a/b",
        "\"quoted\"",
        "'single'",
        "${room}",
        "${participant}",
        "with space",
        "new\nline",
        "tab\there",
        "caf\xc3\xa9",
        "\xe2\x80\xae"
        "gnp.exe",
        "semi;colon",
        "a=b",
        "a,b",
        "(paren)",
        "",
        std::string(65, 'a'),
    };
    for (const auto &value : hostile) {
        INFO("value: " << value);
        TemplateVariables v = goodVars();
        v.room = value;
        CHECK_THROWS_AS(expandVariables("title=${room}", v), std::invalid_argument);
        v = goodVars();
        v.participant = value;
        CHECK_THROWS_AS(expandVariables("title=${participant}", v), std::invalid_argument);
        v = goodVars();
        v.sessionStart = value;
        CHECK_THROWS_AS(expandVariables("title=${session_start}", v), std::invalid_argument);
    }
}

TEST_CASE("substitution is one pass: a value is never rescanned", "[variables][injection]")
{
    // A safe value cannot contain '$', '{' or '}', so recursion needs the
    // value to be refused outright; check that the refusal happens.
    TemplateVariables v = goodVars();
    v.room = "${participant}";
    CHECK_THROWS(expandVariables("${room}", v));
    // "$$" escapes a dollar, and the following "{room}" stays literal text.
    CHECK(expandVariables("$${room}", goodVars()) == "${room}");
}

TEST_CASE("unused variables are not checked", "[variables]")
{
    TemplateVariables v = goodVars();
    v.participant = "not safe at all ! x";
    CHECK(expandVariables("room=${room}", v) == "room=standup");
}

TEST_CASE("placeholdersIn lists names in order", "[variables]")
{
    CHECK(placeholdersIn("${room}-${participant}-${room}")
        == std::vector<std::string> { "room", "participant", "room" });
    CHECK(placeholdersIn("$$room $x").empty());
}

TEST_CASE("isSafeVariableValue", "[variables]")
{
    CHECK(isSafeVariableValue("p1"));
    CHECK(isSafeVariableValue("a.b_c-D9"));
    CHECK(isSafeVariableValue(std::string(64, 'z')));
    CHECK_FALSE(isSafeVariableValue(std::string(65, 'z')));
    CHECK_FALSE(isSafeVariableValue(""));
    CHECK_FALSE(isSafeVariableValue("a b"));
    CHECK_FALSE(isSafeVariableValue("a/b"));
    CHECK_FALSE(isSafeVariableValue(".."));
    CHECK(isSafeVariableValue("a..b"));
}
