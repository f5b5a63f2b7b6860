// Validates each shipped config file the way `roomcast --check-config` does.
#include "config_check.h"
#include "gateway_options.h"
#include "roomcast-config.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace rc::gateway;

TEST_CASE("config/roomcast.conf passes --check-config", "[shipped][config]")
{
    rc::test::ensureGstInit();
    rc::test::TempDir rec;
    const std::string config = ROOMCAST_SOURCE_ROOT "/config/roomcast.conf";
    const std::string pipelines = rc::test::sourcePipelinesDir();
    std::vector<const char *> argv{"roomcast",        "--config", config.c_str(), "--pipelines-dir", pipelines.c_str(),
                                   "--recordings-dir", rec.path().c_str(), "--check-config", nullptr};
    auto options = parseGatewayOptions(static_cast<int>(argv.size() - 1), argv.data());
    REQUIRE(options);
    CHECK(options->checkConfig);
    auto templates = loadActiveTemplates(*options);
    REQUIRE(templates.size() == options->pipelines.size());
    CHECK(templates.front().name == options->pipelines.front());
}

TEST_CASE("every shipped template can be made active", "[shipped][config]")
{
    rc::test::ensureGstInit();
    GatewayOptions o;
    o.recordingsDir = "/nonexistent";
    o.pipelines = {"record-mkv", "record-webm", "record-mp4"};
    o.pipelinesDirs = {rc::test::sourcePipelinesDir()};
    CHECK(loadActiveTemplates(o).size() == 3);
    o.pipelines = {"record-nothing"};
    CHECK_THROWS_WITH(loadActiveTemplates(o), Catch::Contains("record-nothing") && Catch::Contains("not found"));
}
