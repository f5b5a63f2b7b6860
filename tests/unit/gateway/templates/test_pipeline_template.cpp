// Tests of *.pipeline parsing (header, body, placeholders, file:line errors) and lookup.
#include "common/base/startup_error.h"
#include "gateway/templates/output_plan.h"
#include "gateway/templates/pipeline_template.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace rc::gateway;
using rc::test::TempDir;
using rc::test::writeFile;

namespace {

const std::string goodText = "# a comment\n"
                             "scope: participant\n"
                             "description: test template\n"
                             "video-codecs: vp8, H264\n"
                             "audio-codecs: OPUS\n"
                             "extension: mkv\n"
                             "param: quality = high\n"
                             "---\n"
                             "# body comment\n"
                             "queue name=video ! mux.video_0\n"
                             "queue name=audio ! mux.audio_0\n"
                             "matroskamux name=mux ! filesink name=file\n";

// Expects parseTemplate to fail with a message that starts with "FILE:LINE:" and mentions what.
void expectError(const std::string &text, int line, const std::string &what)
{
    INFO(text);
    try {
        parseTemplate("/t/bad.pipeline", text);
        FAIL("no error");
    } catch (const rc::StartupError &e) {
        std::string msg = e.what();
        INFO(msg);
        CHECK(e.exitCode() == 78);
        CHECK(msg.rfind("/t/bad.pipeline:" + std::to_string(line) + ": ", 0) == 0);
        CHECK(msg.find(what) != std::string::npos);
    }
}

} // namespace

TEST_CASE("a good template parses", "[template]")
{
    PipelineTemplate t = parseTemplate("/x/record-test.pipeline", goodText);
    CHECK(t.name == "record-test");
    CHECK(t.path == "/x/record-test.pipeline");
    CHECK(t.scope == TemplateScope::participant);
    CHECK(t.videoCodecs == std::vector<std::string> { "VP8", "H264" });
    CHECK(t.audioCodecs == std::vector<std::string> { "OPUS" });
    CHECK(t.extension == "mkv");
    CHECK(t.description == "test template");
    REQUIRE(t.params.size() == 1);
    CHECK(t.params[0].name == "quality");
    CHECK(t.params[0].defaultValue == "high");
    CHECK(t.launchLine == 10);
    CHECK(t.launch.find("matroskamux name=mux") != std::string::npos);
    CHECK(t.launch.find("body comment") == std::string::npos);
    CHECK(t.acceptsVideoCodec("vp8"));
    CHECK_FALSE(t.acceptsVideoCodec("VP9"));
}

TEST_CASE("room scope and audio-only templates parse", "[template]")
{
    auto t = parseTemplate(
        "/x/a.pipeline", "scope: room\naudio-codecs: OPUS\n---\nqueue name=audio ! fakesink\n");
    CHECK(t.scope == TemplateScope::room);
    CHECK(t.videoCodecs.empty());
    CHECK(t.extension.empty());
}

TEST_CASE("malformed templates name file and line", "[template]")
{
    expectError("video-codecs: VP8\n---\nqueue name=video ! fakesink\n", 2, "missing 'scope");
    expectError("scope: everyone\n---\nx\n", 1, "scope must be");
    expectError("scope: participant\nvideo-codecs: VP8, THEORA\n---\nx\n", 2,
        "unknown video codec 'THEORA'");
    expectError("scope: participant\naudio-codecs: AAC\n---\nx\n", 2, "unknown audio codec 'AAC'");
    expectError("scope: participant\nvideo-codecs: VP8,,VP9\n---\nx\n", 2, "empty entry");
    expectError("scope: participant\nvideo-codecs: VP8, vp8\n---\nx\n", 2, "listed twice");
    expectError("scope: participant\nvideo-codecs: VP8\n", 2, "missing '---'");
    expectError("scope: participant\nvideo-codecs: VP8\n---\n\n# only a comment\n", 3,
        "empty pipeline description");
    expectError("scope: participant\n---\nqueue name=video ! fakesink\n", 2,
        "neither video-codecs nor audio-codecs");
    expectError(
        "scope: participant\nvideo-codecs: VP8\ncolour: blue\n---\nx\n", 3, "unknown key 'colour'");
    expectError("scope: participant\nscope: room\n---\nx\n", 2, "given twice");
    expectError("scope: participant\nthis is not a header\n---\nx\n", 2, "expected 'key: value'");
    expectError(
        "scope: participant\nvideo-codecs: VP8\nextension: .mkv\n---\nx\n", 3, "extension must be");
    expectError("scope: participant\nvideo-codecs: VP8\n---\nqueue name=video\n ! filesink "
                "name=file title=${name}\n",
        5, "unknown variable '${name}'");
    expectError("scope: participant\nvideo-codecs: VP8\n---\nqueue name=video ! filesink "
                "location=${recordings_dir}\n",
        4, "recordings_dir");
    expectError("scope: participant\nvideo-codecs: VP8\n---\nqueue name=video title=${room\n", 4,
        "unterminated");
    expectError("scope: participant\nvideo-codecs: VP8\nparam: Bad Name = 1\n---\nx\n", 3,
        "parameter name");
    expectError("scope: participant\nvideo-codecs: VP8\nparam: q = a b\n---\nx\n", 3,
        "default of parameter");
}

TEST_CASE("a template name must be a safe file stem", "[template]")
{
    CHECK_THROWS_AS(parseTemplate("/x/has space.pipeline", goodText), rc::StartupError);
}

TEST_CASE("loadTemplate reads files and reports missing ones", "[template]")
{
    TempDir dir;
    writeFile(dir / "t.pipeline", goodText);
    CHECK(loadTemplate(dir / "t.pipeline").name == "t");
    CHECK_THROWS_WITH(
        loadTemplate(dir / "missing.pipeline"), Catch::Contains("missing.pipeline: cannot open"));
    writeFile(dir / "big.pipeline", goodText + std::string(70 * 1024, '#'));
    CHECK_THROWS_WITH(loadTemplate(dir / "big.pipeline"), Catch::Contains("64 KiB"));
}

TEST_CASE("findTemplate searches folders in order, first match wins", "[template]")
{
    TempDir a, b;
    writeFile(b / "t.pipeline", goodText);
    writeFile(b / "only-b.pipeline", goodText);
    writeFile(
        a / "t.pipeline", "scope: room\naudio-codecs: OPUS\n---\nqueue name=audio ! fakesink\n");
    CHECK(findTemplate({ a.path(), b.path() }, "t").scope == TemplateScope::room);
    CHECK(findTemplate({ b.path(), a.path() }, "t").scope == TemplateScope::participant);
    CHECK(findTemplate({ a.path(), b.path() }, "only-b").path == b / "only-b.pipeline");
    CHECK_THROWS_WITH(findTemplate({ a.path(), b.path() }, "nope"),
        Catch::Contains("not found") && Catch::Contains(a.path()));
    CHECK_THROWS_WITH(findTemplate({ a.path() }, "../b/t"),
        Catch::Contains("not a") || Catch::Contains("must be"));
    CHECK_THROWS(findTemplate({ a.path() }, ".hidden"));
}

TEST_CASE("typed parameters parse", "[template][param]")
{
    const std::string text
        = "scope: room\n"
          "video-codecs: VP8\n"
          "param: video_bitrate int min=200 max=20000 default=2500\n"
          "param: width int\n"
          "param: rtmp_url url required schemes=rtmp,rtmps set=sink.location\n"
          "param: directory string default=hls\n"
          "param: quality=high\n"
          "---\n"
          "queue name=video ! x264enc bitrate=${video_bitrate} ! fakesink name=sink\n";
    auto t = parseTemplate("/t/p.pipeline", text);
    REQUIRE(t.params.size() == 5);
    CHECK(t.params[0].kind == TemplateParamKind::integer);
    CHECK(t.params[0].minValue == 200);
    CHECK(t.params[0].maxValue == 20000);
    CHECK(t.params[0].defaultValue == "2500");
    CHECK_FALSE(t.params[0].required);
    CHECK(t.params[1].kind == TemplateParamKind::integer);
    CHECK(t.params[1].minValue == 0);
    CHECK(t.params[1].maxValue == 0);
    CHECK(t.params[2].kind == TemplateParamKind::url);
    CHECK(t.params[2].required);
    CHECK(t.params[2].schemes == std::vector<std::string> { "rtmp", "rtmps" });
    CHECK(t.params[2].setElement == "sink");
    CHECK(t.params[2].setProperty == "location");
    CHECK(t.params[3].kind == TemplateParamKind::string);
    CHECK(t.params[3].defaultValue == "hls");
    CHECK(t.params[4].kind == TemplateParamKind::string);
    CHECK(t.params[4].defaultValue == "high");
}

TEST_CASE("malformed parameters name file and line", "[template][param]")
{
    const std::string head = "scope: participant\nvideo-codecs: VP8\n";
    expectError(head + "param: x float\n---\nq\n", 3, "kind must be string, int, url or secret");
    expectError(head + "param: x int min=a\n---\nq\n", 3, "min= must be an integer");
    expectError(head + "param: x int min=5 max=1\n---\nq\n", 3, "min= is larger than max=");
    expectError(head + "param: x int default=9 max=5\n---\nq\n", 3, "default of parameter 'x'");
    expectError(
        head + "param: x string min=1\n---\nq\n", 3, "applies to int and secret parameters only");
    expectError(head + "param: x string set=a.b\n---\nq\n", 3,
        "applies to url, secret and int parameters only");
    expectError(head + "param: x string default=a/b\n---\nq\n", 3, "default of parameter 'x'");
    expectError(head + "param: x string bogus\n---\nq\n", 3, "unknown attribute 'bogus'");
    expectError(head + "param: x string colour=1\n---\nq\n", 3, "unknown attribute 'colour'");
    expectError(head + "param: x int required required\n---\nq\n", 3, "given twice");
    expectError(head + "param: u url schemes=rtmp\n---\nq\n", 3, "needs set=");
    expectError(head + "param: u url set=sink.location\n---\nq\n", 3, "needs schemes=");
    expectError(
        head + "param: u url schemes=rtmp set=sink\n---\nq\n", 3, "set= must be ELEMENT.PROPERTY");
    expectError(head + "param: u url schemes=RTMP set=a.b\n---\nq\n", 3, "schemes=");
    expectError(head + "param: u url schemes=rtmp set=a.b default=file:///etc/passwd\n---\nq\n", 3,
        "default of parameter 'u'");
    expectError(head + "param: room string\n---\nq\n", 3, "reserved");
    expectError(head + "param: x int\nparam: x string\n---\nq\n", 4, "declared twice");
    // A url is never pasted into the description.
    expectError(head
            + "param: u url schemes=rtmp set=sink.location\n---\nqueue name=video\n ! rtmp2sink "
              "location=${u}\n",
        6, "url parameter 'u' may not be used as ${u}");
    // Undeclared names stay errors.
    expectError(head + "param: x int\n---\nqueue name=video ! fakesink name=${y}\n", 5,
        "unknown variable '${y}'");
}

TEST_CASE("a string parameter may list its only values", "[template][param]")
{
    const std::string head = "scope: room\nvideo-codecs: VP8\n";
    auto t = parseTemplate("/t/p.pipeline",
        head
            + "param: preset string default=superfast values=ultrafast,superfast,veryfast\n---\n"
              "queue name=video ! x264enc speed-preset=${preset} ! fakesink\n");
    REQUIRE(t.params.size() == 1);
    CHECK(t.params[0].values == std::vector<std::string> { "ultrafast", "superfast", "veryfast" });
    std::string why;
    CHECK(checkParamValue(t.params[0], "ultrafast", why));
    CHECK_FALSE(checkParamValue(t.params[0], "placebo", why));
    CHECK(why == "must be one of ultrafast, superfast or veryfast");
    CHECK_FALSE(checkParamValue(t.params[0], "a/b", why));
    expectError(head + "param: p string default=slow values=fast,faster\n---\nq\n", 3,
        "default of parameter 'p' must be one of fast or faster");
    expectError(
        head + "param: p int values=1,2\n---\nq\n", 3, "values= applies to string parameters only");
    expectError(head + "param: p string values=a,,b\n---\nq\n", 3, "values= must be");
    expectError(head + "param: p string values=a,a\n---\nq\n", 3, "values= must be");
    expectError(head + "param: p string values=a/b\n---\nq\n", 3, "values= must be");
    expectError(head + "param: p string values=\n---\nq\n", 3, "empty values=");
}

TEST_CASE("gap-video is freeze by default, black on request, nothing else", "[template]")
{
    CHECK(parseTemplate("/t/a.pipeline", goodText).gapVideo == GapVideo::freeze);
    CHECK(parseTemplate("/t/a.pipeline", "gap-video: black\n" + goodText).gapVideo
        == GapVideo::black);
    CHECK(parseTemplate("/t/a.pipeline", "gap-video: freeze\n" + goodText).gapVideo
        == GapVideo::freeze);
    expectError("gap-video: grey\n" + goodText, 1, "gap-video must be 'freeze' or 'black'");
    expectError("gap-video: black\ngap-video: black\n" + goodText, 2, "given twice");
}
