// Tests of the required-elements list: merging components' lists and finding what is missing.
#include "common/gst/required_elements.h"

#include <gst/gst.h>

#include <catch2/catch.hpp>

TEST_CASE("lists merge without repeating a factory", "[elements]")
{
    rc::RequiredElements list { { "tee", "core" }, { "queue", "core" } };
    rc::addRequired(list, { { "queue", "elsewhere" }, { "compositor", "base" } });
    REQUIRE(list.size() == 3);
    CHECK(list[1].factory == "queue");
    CHECK(list[1].package == "core"); // the first naming stays
    CHECK(list[2].factory == "compositor");
}

TEST_CASE("the first missing element is reported, in list order", "[elements]")
{
    gst_init(nullptr, nullptr);
    CHECK(rc::isElementInstalled("queue"));
    CHECK_FALSE(rc::isElementInstalled("roomcast-no-such-element"));
    CHECK_FALSE(rc::firstMissing({ { "queue", "core" }, { "tee", "core" } }));
    auto missing = rc::firstMissing({ { "queue", "core" }, { "roomcast-nope-1", "pkg one" },
        { "roomcast-nope-2", "pkg two" } });
    REQUIRE(missing);
    CHECK(missing->factory == "roomcast-nope-1");
    CHECK(missing->package == "pkg one");
}
