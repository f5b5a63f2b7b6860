// The control API's templates proven in a child process: same verdicts, plugins kept out.
#include "gateway/app/config_check.h"
#include "gateway/app/gateway_options.h"
#include "test_support.h"

#include <gst/gst.h>

#include <algorithm>
#include <cstdlib>

#include <catch2/catch.hpp>

using namespace rc::gateway;

namespace {

std::vector<std::string> names(const std::vector<PipelineTemplate> &templates)
{
    std::vector<std::string> out;
    for (const auto &t : templates)
        out.push_back(t.name);
    return out;
}

// Whether this process has loaded the plugin (a template naming one of its elements was made).
bool pluginLoaded(const char *name)
{
    GstPlugin *plugin = gst_registry_find_plugin(gst_registry_get(), name);
    if (!plugin)
        return false;
    const bool loaded = gst_plugin_is_loaded(plugin);
    gst_object_unref(plugin);
    return loaded;
}

} // namespace

TEST_CASE("the API's templates are checked in a child: same verdicts, no plugin loaded here",
    "[config][templates]")
{
    rc::test::ensureGstInit();
    const char *roomcast = std::getenv("ROOMCAST_BIN");
    REQUIRE(roomcast);
    // x264enc appears only in templates that are not active here (composite-mp4, hls, rtmp):
    // a plugin this process loads only if it checks those itself.
    REQUIRE(gst_registry_find_plugin(gst_registry_get(), "x264"));
    REQUIRE_FALSE(pluginLoaded("x264"));

    rc::test::TempDir dir;
    rc::test::writeFile(dir / "needs-plugin.pipeline",
        "scope: participant\nvideo-codecs: VP8\naudio-codecs: OPUS\nextension: mkv\n---\n"
        "queue name=video ! nosuchelementxyz ! mux.video_0\nqueue name=audio ! mux.audio_0\n"
        "matroskamux name=mux ! filesink name=file\n");
    GatewayOptions o;
    o.recordingsDir = "/nonexistent";
    o.pipelines = { "record-mkv" };
    o.pipelinesDirs = { dir.path(), rc::test::sourcePipelinesDir() };

    setTemplateCheckHelper(roomcast);
    std::vector<std::string> skippedChild;
    auto child = loadAvailableTemplates(o, skippedChild);
    CHECK_FALSE(pluginLoaded("x264"));

    setTemplateCheckHelper("");
    std::vector<std::string> skippedHere;
    auto here = loadAvailableTemplates(o, skippedHere);
    // The in-process check does load it: the first CHECK_FALSE above means something.
    CHECK(pluginLoaded("x264"));

    CHECK(names(child) == names(here));
    CHECK(std::find(names(child).begin(), names(child).end(), "record-mkv") != names(child).end());
    CHECK(names(child).size() > 2);
    REQUIRE(skippedChild.size() == 1);
    CHECK(skippedChild == skippedHere);
    CHECK(skippedChild.front().find("nosuchelementxyz") != std::string::npos);
}

TEST_CASE("a helper that cannot run: the templates are checked in process", "[config][templates]")
{
    rc::test::ensureGstInit();
    GatewayOptions o;
    o.recordingsDir = "/nonexistent";
    o.pipelines = { "record-mkv" };
    o.pipelinesDirs = { rc::test::sourcePipelinesDir() };
    setTemplateCheckHelper("/nonexistent/roomcast");
    std::vector<std::string> skipped;
    auto available = loadAvailableTemplates(o, skipped);
    setTemplateCheckHelper("");
    CHECK(skipped.empty());
    CHECK(names(available).size() > 2);
}
