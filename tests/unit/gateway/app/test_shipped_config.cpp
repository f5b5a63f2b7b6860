// Validates each shipped config file the way `roomcast --check-config` does.
#include "common/base/startup_error.h"
#include "gateway/app/config_check.h"
#include "gateway/app/gateway_options.h"
#include "roomcast-config.h"
#include "test_support.h"

#include <algorithm>

#include <catch2/catch.hpp>

using namespace rc::gateway;

TEST_CASE("config/roomcast.conf passes --check-config", "[shipped][config]")
{
    rc::test::ensureGstInit();
    rc::test::TempDir rec;
    const std::string config = ROOMCAST_SOURCE_ROOT "/config/roomcast.conf";
    const std::string pipelines = rc::test::sourcePipelinesDir();
    std::vector<const char *> argv { "roomcast", "--config", config.c_str(), "--pipelines-dir",
        pipelines.c_str(), "--recordings-dir", rec.path().c_str(), "--check-config", nullptr };
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
    o.pipelines = { "record-mkv", "record-webm", "record-mp4" };
    o.pipelinesDirs = { rc::test::sourcePipelinesDir() };
    CHECK(loadActiveTemplates(o).size() == 3);
    o.pipelines = { "record-nothing" };
    CHECK_THROWS_WITH(
        loadActiveTemplates(o), Catch::Contains("record-nothing") && Catch::Contains("not found"));
}

TEST_CASE(
    "a template naming a missing element is exit 69; the API's scan skips it", "[shipped][config]")
{
    rc::test::ensureGstInit();
    rc::test::TempDir dir;
    rc::test::writeFile(dir / "needs-plugin.pipeline",
        "scope: participant\nvideo-codecs: VP8\naudio-codecs: OPUS\nextension: mkv\n---\n"
        "queue name=video ! nosuchelementxyz ! mux.video_0\nqueue name=audio ! mux.audio_0\n"
        "matroskamux name=mux ! filesink name=file\n");
    GatewayOptions o;
    o.recordingsDir = "/nonexistent";
    o.pipelines = { "needs-plugin" };
    o.pipelinesDirs = { dir.path(), rc::test::sourcePipelinesDir() };
    try {
        loadActiveTemplates(o);
        FAIL("no error");
    } catch (const rc::StartupError &e) {
        CHECK(e.exitCode() == 69);
        CHECK(std::string(e.what()).find("nosuchelementxyz") != std::string::npos);
    }
    // Every template the control API may start: the shipped ones, not the broken one.
    std::vector<std::string> skipped;
    auto available = loadAvailableTemplates(o, skipped);
    std::vector<std::string> names;
    for (const auto &t : available)
        names.push_back(t.name);
    CHECK(std::find(names.begin(), names.end(), "record-mkv") != names.end());
    CHECK(std::find(names.begin(), names.end(), "needs-plugin") == names.end());
    REQUIRE(skipped.size() == 1);
    CHECK(skipped.front().find("needs-plugin") != std::string::npos);
}
