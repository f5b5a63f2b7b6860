// Tests of template instantiation: ghost pads, code-set location, gst-launch errors, and injection
// attempts.
#include "common/base/startup_error.h"
#include "gateway/app/config_check.h"
#include "gateway/room/recording_layout.h"
#include "gateway/templates/pipeline_template.h"
#include "gateway/templates/template_instance.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

using namespace rc::gateway;
using rc::GPtr;

namespace {

TemplateVariables goodVars()
{
    return { "standup", "p1", "20261124T041500Z", "/srv/rec" };
}

PipelineTemplate tpl(const std::string &body,
    const std::string &header
    = "scope: participant\nvideo-codecs: VP8\naudio-codecs: OPUS\nextension: mkv\n")
{
    return parseTemplate("/t/test.pipeline", header + "---\n" + body);
}

// "factory:name" for every element inside bin, sorted.
std::vector<std::string> elementsOf(GstElement *bin)
{
    std::vector<std::string> out;
    GPtr<GstIterator> it(gst_bin_iterate_recurse(GST_BIN(bin)));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it.get(), &item) == GST_ITERATOR_OK) {
        auto *e = static_cast<GstElement *>(g_value_get_object(&item));
        GstElementFactory *f = gst_element_get_factory(e);
        out.push_back(std::string(f ? GST_OBJECT_NAME(f) : "?") + ":" + GST_OBJECT_NAME(e));
        g_value_reset(&item);
    }
    g_value_unset(&item);
    std::sort(out.begin(), out.end());
    return out;
}

std::string locationOf(GstElement *bin)
{
    GPtr<GstElement> file = rc::adopt(gst_bin_get_by_name(GST_BIN(bin), "file"));
    if (!file)
        return "";
    gchar *loc = nullptr;
    g_object_get(file.get(), "location", &loc, nullptr);
    return rc::takeString(loc);
}

const std::string muxBody = "queue name=video ! mux.video_0\n"
                            "queue name=audio ! mux.audio_0\n"
                            "matroskamux name=mux ! filesink name=file\n";

} // namespace

TEST_CASE("an instance has ghost pads video and audio and the code-set location", "[instance]")
{
    rc::test::ensureGstInit();
    std::string error;
    auto inst = instantiateTemplate(tpl(muxBody), goodVars(), "/srv/rec/standup/x/p1.mkv", error);
    REQUIRE(inst);
    CHECK(error.empty());
    CHECK(inst->hasVideo);
    CHECK(inst->hasAudio);
    CHECK(inst->outputPath == "/srv/rec/standup/x/p1.mkv");
    CHECK(locationOf(inst->bin.get()) == "/srv/rec/standup/x/p1.mkv");
    GPtr<GstPad> video = rc::adopt(gst_element_get_static_pad(inst->bin.get(), "video"));
    GPtr<GstPad> audio = rc::adopt(gst_element_get_static_pad(inst->bin.get(), "audio"));
    REQUIRE(video);
    REQUIRE(audio);
    CHECK(GST_IS_GHOST_PAD(video.get()));
    CHECK(GST_PAD_DIRECTION(video.get()) == GST_PAD_SINK);
    // Nothing else is ghosted.
    CHECK(inst->bin->numpads == 2);
    CHECK_FALSE(g_object_is_floating(inst->bin.get()));
    CHECK(std::string(GST_OBJECT_NAME(inst->bin.get())).rfind("test-p1-", 0) == 0);
}

TEST_CASE("the location in the description is overridden by code", "[instance][injection]")
{
    rc::test::ensureGstInit();
    std::string error;
    auto inst = instantiateTemplate(
        tpl("queue name=video ! matroskamux ! filesink name=file location=/tmp/elsewhere\n",
            "scope: participant\nvideo-codecs: VP8\nextension: mkv\n"),
        goodVars(), "/srv/out.mkv", error);
    REQUIRE(inst);
    CHECK(locationOf(inst->bin.get()) == "/srv/out.mkv");
    CHECK_FALSE(inst->hasAudio);
}

TEST_CASE("instantiation errors", "[instance]")
{
    rc::test::ensureGstInit();
    std::string error;
    SECTION("bad gst-launch syntax names the file and GStreamer's message")
    {
        CHECK_FALSE(instantiateTemplate(
            tpl("queue name=video ! ! filesink name=file\n"), goodVars(), "/x.mkv", error));
        CHECK(error.rfind("/t/test.pipeline: ", 0) == 0);
        CHECK(error.size() > std::string("/t/test.pipeline: ").size());
    }
    SECTION("an unknown element is reported as missing")
    {
        CHECK_FALSE(
            instantiateTemplate(tpl("queue name=video ! nosuchelementxyz ! filesink name=file\n"),
                goodVars(), "/x.mkv", error));
        CHECK(error.find("nosuchelementxyz") != std::string::npos);
    }
    SECTION("no entry element")
    {
        CHECK_FALSE(instantiateTemplate(
            tpl("queue ! matroskamux ! filesink name=file\n"), goodVars(), "/x.mkv", error));
        CHECK(error.find("no element named 'video' or 'audio'") != std::string::npos);
    }
    SECTION("an entry element without a free sink pad")
    {
        CHECK_FALSE(instantiateTemplate(
            tpl("videotestsrc name=video ! fakesink\n"), goodVars(), "/x.mkv", error));
        CHECK(error.find("no free sink pad") != std::string::npos);
    }
    SECTION("a writing element not named file")
    {
        CHECK_FALSE(
            instantiateTemplate(tpl("queue name=video ! filesink name=out location=/tmp/x\n"),
                goodVars(), "/x.mkv", error));
        CHECK(error.find("not named 'file'") != std::string::npos);
    }
    SECTION("an audio-channels element that is not a capsfilter")
    {
        CHECK_FALSE(
            instantiateTemplate(tpl("queue name=audio ! identity name=audio-channels ! fakesink\n"),
                goodVars(), "/x.mkv", error));
        CHECK(error.find("'audio-channels' must be a capsfilter (identity given)")
            != std::string::npos);
        CHECK(instantiateTemplate(
            tpl("queue name=audio ! capsfilter name=audio-channels ! fakesink\n"), goodVars(),
            "/x.mkv", error));
    }
    SECTION("a file element but no output path")
    {
        CHECK_FALSE(instantiateTemplate(tpl(muxBody), goodVars(), "", error));
        CHECK(error.find("no output path") != std::string::npos);
    }
    SECTION("a template without a file element ignores the output path")
    {
        auto inst = instantiateTemplate(
            tpl("queue name=video ! fakesink\n"), goodVars(), "/x.mkv", error);
        REQUIRE(inst);
        CHECK(inst->outputPath.empty());
    }
}

TEST_CASE(
    "hostile ids cannot inject elements nor escape the session folder", "[instance][injection]")
{
    rc::test::ensureGstInit();
    const std::vector<std::string> hostile = {
        "x ! filesink location=/tmp/pwn",
        "x name=file location=/tmp/pwn",
        "../../etc",
        "..",
        ".",
        "/etc/passwd",
        "\"quoted\" 'single'",
        "${room}",
        "a b",
        "line\nbreak",
        "\xe2\x80\xae"
        "evil",
        "caf\xc3\xa9",
        std::string("nul\0byte", 8),
        std::string(300, 'A'),
        "",
    };
    PipelineTemplate usesVars
        = tpl("queue name=video ! matroskamux ! taginject tags=title=${room}-${participant} ! "
              "filesink name=file\n",
            "scope: participant\nvideo-codecs: VP8\nextension: mkv\n");
    std::string error;
    auto reference = instantiateTemplate(usesVars, goodVars(), "/r/p1.mkv", error);
    REQUIRE(reference);
    const auto referenceElements = elementsOf(reference->bin.get());

    rc::test::TempDir root;
    auto start = std::chrono::system_clock::now();
    for (const auto &value : hostile) {
        INFO("value: " << value);
        for (int field = 0; field < 2; ++field) {
            TemplateVariables v = goodVars();
            (field == 0 ? v.room : v.participant) = value;
            // A template that substitutes the value refuses it...
            error.clear();
            CHECK_FALSE(instantiateTemplate(usesVars, v, "/r/p1.mkv", error));
            CHECK(error.find("refusing") != std::string::npos);
            // ...and one that does not gets exactly its own elements.
            auto inst = instantiateTemplate(tpl(muxBody), v, "/r/p1.mkv", error);
            REQUIRE(inst);
            CHECK(elementsOf(inst->bin.get())
                == std::vector<std::string> {
                    "filesink:file", "matroskamux:mux", "queue:audio", "queue:video" });
            CHECK(locationOf(inst->bin.get()) == "/r/p1.mkv");
        }
        // The path built from hostile ids stays inside the session folder.
        RecordingLayout layout(root.path(), value, start);
        std::string file = layout.participantFile(value, "mkv");
        auto session = std::filesystem::weakly_canonical(layout.sessionDir());
        auto canonicalFile = std::filesystem::weakly_canonical(file);
        CHECK(canonicalFile.parent_path() == session);
        CHECK(
            session.parent_path().parent_path() == std::filesystem::weakly_canonical(root.path()));
        CHECK(std::filesystem::path(file).filename().string().find('/') == std::string::npos);
    }
    CHECK(elementsOf(reference->bin.get()) == referenceElements);
}

TEST_CASE("checkTemplate matches declared codecs against the bin's pads", "[instance][check]")
{
    rc::test::ensureGstInit();
    SECTION("a codec the muxer cannot take")
    {
        auto t = tpl("queue name=video ! mux.video_0\nqueue name=audio ! mux.audio_0\nwebmmux "
                     "name=mux ! filesink name=file\n",
            "scope: participant\nvideo-codecs: VP8, H264\naudio-codecs: OPUS\nextension: webm\n");
        CHECK_THROWS_WITH(checkTemplate(t), Catch::Contains("H264"));
    }
    SECTION("codecs listed without the entry element")
    {
        auto t = tpl("queue name=video ! matroskamux ! filesink name=file\n");
        CHECK_THROWS_WITH(checkTemplate(t), Catch::Contains("no element named 'audio'"));
    }
    SECTION("a file without an extension")
    {
        auto t = tpl("queue name=video ! matroskamux ! filesink name=file\n",
            "scope: participant\nvideo-codecs: VP8\n");
        CHECK_THROWS_WITH(checkTemplate(t), Catch::Contains("no extension"));
    }
    SECTION("a good one")
    {
        CHECK_NOTHROW(checkTemplate(tpl(muxBody)));
    }
}

TEST_CASE("every shipped template passes checkTemplate", "[instance][check][shipped]")
{
    rc::test::ensureGstInit();
    for (const char *name : { "record-mkv", "record-webm", "record-mp4" }) {
        INFO(name);
        PipelineTemplate t = findTemplate({ rc::test::sourcePipelinesDir() }, name);
        CHECK_NOTHROW(checkTemplate(t));
        CHECK(t.scope == TemplateScope::participant);
    }
    CHECK(findTemplate({ rc::test::sourcePipelinesDir() }, "record-mp4").videoCodecs
        == std::vector<std::string> { "H264" });
    CHECK(findTemplate({ rc::test::sourcePipelinesDir() }, "record-webm").extension == "webm");
}

namespace {
std::string stringProperty(GstElement *bin, const char *element, const char *property)
{
    GPtr<GstElement> e = rc::adopt(gst_bin_get_by_name(GST_BIN(bin), element));
    if (!e)
        return "<no element>";
    gchar *value = nullptr;
    g_object_get(e.get(), property, &value, nullptr);
    return value ? rc::takeString(value) : "";
}
int intProperty(GstElement *bin, const char *element, const char *property)
{
    GPtr<GstElement> e = rc::adopt(gst_bin_get_by_name(GST_BIN(bin), element));
    gint value = -1;
    if (e)
        g_object_get(e.get(), property, &value, nullptr);
    return value;
}
} // namespace

TEST_CASE("string and int parameters are substituted, urls set by code", "[instance][param]")
{
    rc::test::ensureGstInit();
    auto t = tpl("queue name=video max-size-buffers=${buffers} ! fakesink name=sink\n",
        "scope: participant\nvideo-codecs: VP8\n"
        "param: buffers int min=1 max=1000 default=7\n"
        "param: target url required schemes=rtmp,rtmps set=sink.name\n");
    std::string error;
    // name is a string property of every element: stands in for rtmp2sink's location here.
    auto inst = instantiateTemplate(t, goodVars(),
        { { "buffers", "42" }, { "target", "rtmp://h:1935/live?key=s3cret" } }, "", "", error);
    REQUIRE(inst);
    INFO(error);
    CHECK(intProperty(inst->bin.get(), "video", "max-size-buffers") == 42);
    // Participant scope: each participant publishes to its own stream, before the query.
    CHECK(inst->url == "rtmp://h:1935/live/p1?key=s3cret");

    SECTION("a participant id is sanitized in the url")
    {
        CHECK(urlForInstance(t, "rtmp://h/live/", "a b/..") == "rtmp://h/live/a_b_..");
    }
    SECTION("room scope keeps the url as given")
    {
        auto room = t;
        room.scope = TemplateScope::room;
        CHECK(urlForInstance(room, "rtmp://h/live/key", "p1") == "rtmp://h/live/key");
    }
    SECTION("set= must name an element with a string property")
    {
        auto bad = tpl("queue name=video ! fakesink name=sink\n",
            "scope: participant\nvideo-codecs: VP8\n"
            "param: target url schemes=rtmp set=nosuch.location\n");
        CHECK_FALSE(
            instantiateTemplate(bad, goodVars(), { { "target", "rtmp://h/x" } }, "", "", error));
        CHECK_THAT(error, Catch::Contains("no element named 'nosuch'"));
        auto bad2 = tpl("queue name=video ! fakesink name=sink\n",
            "scope: participant\nvideo-codecs: VP8\n"
            "param: target url schemes=rtmp set=sink.nosuchprop\n");
        CHECK_FALSE(
            instantiateTemplate(bad2, goodVars(), { { "target", "rtmp://h/x" } }, "", "", error));
        CHECK_THAT(error, Catch::Contains("no writable string property"));
        // Also without a value: --check-config finds a wrong set= target.
        CHECK_FALSE(instantiateTemplate(bad, goodVars(), "", error));
        CHECK_THAT(error, Catch::Contains("no element named 'nosuch'"));
    }
    SECTION("a used parameter without a value is an error, not an empty token")
    {
        auto opt = tpl("queue name=video max-size-buffers=${n} ! fakesink\n",
            "scope: participant\nvideo-codecs: VP8\nparam: n int\n");
        CHECK_FALSE(instantiateTemplate(opt, goodVars(), {}, "", "", error));
        CHECK_THAT(error, Catch::Contains("'n'") && Catch::Contains("no value"));
    }
    SECTION("a string value that could end its token is refused")
    {
        auto s = tpl("queue name=video ! fakesink name=${label}\n",
            "scope: participant\nvideo-codecs: VP8\nparam: label string default=ok\n");
        CHECK(instantiateTemplate(s, goodVars(), { { "label", "fine-1" } }, "", "", error));
        CHECK_FALSE(instantiateTemplate(
            s, goodVars(), { { "label", "x ! filesink location=/tmp/p" } }, "", "", error));
    }
}

TEST_CASE("the element named hls writes under the session folder", "[instance][hls]")
{
    rc::test::ensureGstInit();
    GstElementFactory *f = gst_element_factory_find("hlssink2");
    if (f)
        gst_object_unref(f);
    if (!f) {
        WARN("hlssink2 not installed");
        return;
    }
    rc::test::TempDir dir;
    auto t
        = tpl("queue name=video ! h264parse ! hls.video\nqueue name=audio ! aacparse ! hls.audio\n"
              "hlssink2 name=hls target-duration=2\n",
            "scope: room\nvideo-codecs: H264\naudio-codecs: OPUS\nparam: directory string "
            "default=hls\n");
    std::string error;
    auto inst
        = instantiateTemplate(t, goodVars(), { { "directory", "live" } }, "", dir.path(), error);
    INFO(error);
    REQUIRE(inst);
    const std::string expect = (std::filesystem::path(dir.path()) / "live").string();
    CHECK(inst->hlsDir == expect);
    CHECK(std::filesystem::is_directory(expect));
    CHECK(stringProperty(inst->bin.get(), "hls", "location") == expect + "/segment%05d.ts");
    CHECK(stringProperty(inst->bin.get(), "hls", "playlist-location") == expect + "/playlist.m3u8");
    // Any other name stays refused.
    auto other = tpl("queue name=video ! h264parse ! x.video\nhlssink2 name=x\n",
        "scope: room\nvideo-codecs: H264\n");
    CHECK_FALSE(instantiateTemplate(other, goodVars(), {}, "", dir.path(), error));
}

TEST_CASE(
    "secret and int parameters with set= are set by code on the element", "[instance][params]")
{
    rc::test::ensureGstInit();
    GstElementFactory *srt = gst_element_factory_find("srtsink");
    if (!srt) {
        WARN("srtsink is not installed: skipped");
        return;
    }
    gst_object_unref(srt);
    const std::string header = "scope: room\nvideo-codecs: VP8\n"
                               "param: url url required schemes=srt set=sink.uri\n"
                               "param: latency int min=20 max=8000 default=200 set=sink.latency\n"
                               "param: passphrase secret min=10 max=79 set=sink.passphrase\n"
                               "param: pbkeylen int min=16 max=32 default=16 set=sink.pbkeylen\n";
    PipelineTemplate t = tpl("queue name=video ! mpegtsmux ! srtsink name=sink\n", header);
    REQUIRE(t.params.size() == 4);
    CHECK(t.params[2].kind == TemplateParamKind::secret);
    CHECK(t.params[2].minValue == 10);
    CHECK(t.params[2].maxValue == 79);
    std::string error;
    std::map<std::string, std::string> params { { "url", "srt://127.0.0.1:9000" },
        { "latency", "350" }, { "passphrase", "correct-horse-77" }, { "pbkeylen", "32" } };
    auto inst = instantiateTemplate(t, goodVars(), params, "", "", error);
    INFO(error);
    REQUIRE(inst);
    GPtr<GstElement> sink = rc::adopt(gst_bin_get_by_name(GST_BIN(inst->bin.get()), "sink"));
    REQUIRE(sink);
    gchar *uri = nullptr;
    int latency = 0, keylen = 0;
    g_object_get(sink.get(), "uri", &uri, "latency", &latency, "pbkeylen", &keylen, nullptr);
    CHECK(std::string(uri ? uri : "") == "srt://127.0.0.1:9000");
    g_free(uri);
    CHECK(latency == 350);
    CHECK(keylen == 32);
    CHECK(inst->url == "srt://127.0.0.1:9000");
    // The secret is nowhere in the element's description or name (it is write-only on srtsink).
    CHECK(t.launch.find("correct-horse") == std::string::npos);

    // An enum property takes only its own values.
    params["pbkeylen"] = "17";
    CHECK_FALSE(instantiateTemplate(t, goodVars(), params, "", "", error));
    CHECK(error.find("pbkeylen") != std::string::npos);
    CHECK(error.find("correct-horse") == std::string::npos);

    // A secret is never text of the description, has no default, needs set=; a string has no set=.
    CHECK_THROWS_WITH(tpl("queue name=video ! fakesink name=s prop=${p}\n",
                          "scope: participant\nvideo-codecs: VP8\nparam: p secret set=s.name\n"),
        Catch::Contains("may not be used as ${p}"));
    CHECK_THROWS_WITH(tpl("queue name=video ! fakesink name=s\n",
                          "scope: participant\nvideo-codecs: VP8\nparam: p secret default=abc "
                          "set=s.name\n"),
        Catch::Contains("may not have a default"));
    CHECK_THROWS_WITH(tpl("queue name=video ! fakesink name=s\n",
                          "scope: participant\nvideo-codecs: VP8\nparam: p secret\n"),
        Catch::Contains("needs set="));
    CHECK_THROWS_WITH(tpl("queue name=video ! fakesink name=s\n",
                          "scope: participant\nvideo-codecs: VP8\nparam: p string set=s.name\n"),
        Catch::Contains("set= applies to url, secret and int"));
}
