// Proves each shipped template records encoded test streams into a file that ffprobe and
// gst-discoverer read.
#include "gateway/templates/pipeline_template.h"
#include "media_feed.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <sstream>

using namespace rc::gateway;

namespace {

struct Probe
{
    std::vector<std::string> codecs; // "vp8,video" ...
    double duration = 0;
    bool firstVideoKey = false;
};

Probe probe(const std::string &path)
{
    Probe p;
    std::string out;
    REQUIRE(rc::test::runCommand({ "ffprobe", "-v", "error", "-show_entries",
                                     "stream=codec_name,codec_type", "-of", "csv=p=0", path },
        out));
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty())
            p.codecs.push_back(line);
    REQUIRE(rc::test::runCommand({ "ffprobe", "-v", "error", "-show_entries", "format=duration",
                                     "-of", "default=nw=1:nk=1", path },
        out));
    p.duration = std::atof(out.c_str());
    REQUIRE(rc::test::runCommand(
        { "ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
            "-show_entries", "packet=flags", "-of", "csv=p=0", path },
        out));
    p.firstVideoKey = !out.empty() && out[0] == 'K';
    return p;
}

void recordAndCheck(
    const std::string &templateName, const std::string &videoCodec, const std::string &expectVideo)
{
    rc::test::ensureGstInit();
    INFO(templateName << " with " << videoCodec);
    PipelineTemplate tpl = findTemplate({ rc::test::sourcePipelinesDir() }, templateName);
    REQUIRE(tpl.acceptsVideoCodec(videoCodec));
    rc::test::TempDir dir;
    std::string path = dir / ("p1." + tpl.extension);
    std::string error;
    auto pipeline = rc::test::buildFeedPipeline(tpl, path, videoCodec, false, 2, error);
    INFO(error);
    REQUIRE(pipeline);
    REQUIRE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    rc::GPtr<GstBus> bus = rc::adopt(gst_element_get_bus(pipeline.get()));
    rc::GPtr<GstMessage> msg = rc::adopt(gst_bus_timed_pop_filtered(bus.get(), 20 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS)));
    std::string what = !msg ? "timeout" : GST_MESSAGE_TYPE_NAME(msg.get());
    if (msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
        GError *e = nullptr;
        gst_message_parse_error(msg.get(), &e, nullptr);
        what += std::string(": ") + (e ? e->message : "");
        g_clear_error(&e);
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    REQUIRE(what == "eos");

    Probe p = probe(path);
    CHECK(p.codecs == std::vector<std::string> { expectVideo + ",video", "opus,audio" });
    CHECK(p.duration == Approx(2.0).margin(0.3));
    CHECK(p.firstVideoKey);
    std::string out;
    CHECK(rc::test::runCommand({ "gst-discoverer-1.0", path }, out));
    CHECK(out.find("Opus") != std::string::npos);
}

} // namespace

TEST_CASE("record-mkv takes VP8, VP9, H264 and AV1 with Opus", "[media][mkv]")
{
    recordAndCheck("record-mkv", "VP8", "vp8");
    recordAndCheck("record-mkv", "VP9", "vp9");
    recordAndCheck("record-mkv", "H264", "h264");
    recordAndCheck("record-mkv", "AV1", "av1");
}

TEST_CASE("record-webm takes VP8 and VP9 with Opus", "[media][webm]")
{
    recordAndCheck("record-webm", "VP8", "vp8");
    recordAndCheck("record-webm", "VP9", "vp9");
}

TEST_CASE("record-mp4 takes H264 with Opus", "[media][mp4]")
{
    recordAndCheck("record-mp4", "H264", "h264");
}
