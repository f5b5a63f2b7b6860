// Tests of the gateway's one list of elements made in code: what start-up checks before joining.
#include "gateway/app/config_check.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace rc::gateway;

namespace {

bool lists(const rc::RequiredElements &list, const std::string &factory)
{
    return std::any_of(list.begin(), list.end(),
        [&](const rc::RequiredElement &e) { return e.factory == factory; });
}

PipelineTemplate withScope(TemplateScope scope)
{
    PipelineTemplate tpl;
    tpl.name = scope == TemplateScope::room ? "composite" : "record";
    tpl.scope = scope;
    return tpl;
}

} // namespace

TEST_CASE("participant templates need webrtc and the stream chain, not the composite",
    "[config][elements]")
{
    const auto list = requiredElements({ withScope(TemplateScope::participant) });
    for (const char *f : { "webrtcbin", "nicesrc", "nicesink", "dtlssrtpdec", "srtpdec", "rtpbin",
             "fakesink", "tee", "queue" })
        CHECK(lists(list, f));
    CHECK_FALSE(lists(list, "compositor"));
    CHECK_FALSE(lists(list, "opusdec"));
    CHECK(list.front().factory == "webrtcbin");
    CHECK(list.front().package == "gst-plugins-bad (webrtc)");
}

TEST_CASE("a room template adds the composite's elements, each listed once", "[config][elements]")
{
    const auto list = requiredElements(
        { withScope(TemplateScope::participant), withScope(TemplateScope::room) });
    for (const char *f :
        { "compositor", "audiomixer", "videoconvert", "audioconvert", "audioresample", "capsfilter",
            "appsrc", "appsink", "videotestsrc", "audiotestsrc", "opusdec" })
        CHECK(lists(list, f));
    std::set<std::string> seen;
    for (const auto &e : list)
        CHECK(seen.insert(e.factory).second);
    // tee and queue are the participant chain's first, with its package.
    auto tee = std::find_if(
        list.begin(), list.end(), [](const rc::RequiredElement &e) { return e.factory == "tee"; });
    REQUIRE(tee != list.end());
    CHECK(tee->package == "gstreamer core");
}
