// The room composite engine without WebRTC: synthetic participants (solid colours, encoded
// and fed through MixFeed decode branches) into a RoomMixer, read back from output bins.
#include "common/base/main_context.h"
#include "common/gst/gst_helpers.h"
#include "gateway/composite/room_mixer.h"
#include "gateway/templates/pipeline_template.h"
#include "test_support.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <sstream>

using namespace rc;
using namespace rc::gateway;
using namespace std::chrono_literals;

namespace {

constexpr int kWidth = 320, kHeight = 240;

struct Rgb
{
    int r = 0, g = 0, b = 0;
};
std::string str(Rgb c)
{
    std::ostringstream s;
    s << "(" << c.r << "," << c.g << "," << c.b << ")";
    return s.str();
}
bool near(Rgb a, Rgb b, int tolerance = 40)
{
    return std::abs(a.r - b.r) <= tolerance && std::abs(a.g - b.g) <= tolerance
        && std::abs(a.b - b.b) <= tolerance;
}
const Rgb kRed { 255, 0, 0 }, kGreen { 0, 255, 0 }, kBlue { 0, 0, 255 }, kBlack { 0, 0, 0 },
    kGrey { 0x30, 0x30, 0x30 };

void requirePlugins()
{
    rc::test::requireElementsOrSkip({ "compositor", "audiomixer", "videotestsrc", "audiotestsrc",
        "vp8enc", "vp8dec", "x264enc", "avdec_h264", "opusenc", "opusdec", "appsink", "appsrc",
        "identity", "avenc_aac", "hlssink2", "mp4mux" });
}

// A participant's pipeline: a solid colour encoded (VP8 or H264) and a tone
// encoded as Opus, each into a decode branch from the mixer's feed.
struct FakeParticipant
{
    GPtr<GstElement> pipeline;

    FakeParticipant(MixFeed &feed, guint argb, const std::string &codec, bool audio)
    {
        std::ostringstream d;
        d << "videotestsrc is-live=true pattern=solid-color foreground-color=" << argb
          << " ! video/x-raw,width=640,height=480,framerate=15/1,format=I420 ! ";
        if (codec == "VP8")
            d << "vp8enc deadline=1 cpu-used=8 keyframe-max-dist=15 ! queue name=vout ";
        else
            d << "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! h264parse ! "
                 "queue name=vout ";
        if (audio)
            d << "audiotestsrc is-live=true wave=sine freq=440 volume=0.5 ! opusenc ! opusparse ! "
                 "queue name=aout ";
        GError *err = nullptr;
        pipeline = refSink(gst_parse_launch(d.str().c_str(), &err));
        if (err) {
            FAIL(err->message);
        }
        attach(feed, MediaKind::video, codec, "vout");
        if (audio)
            attach(feed, MediaKind::audio, "OPUS", "aout");
        REQUIRE(
            gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    }
    void attach(MixFeed &feed, MediaKind kind, const std::string &codec, const char *from)
    {
        std::string error;
        GPtr<GstElement> branch = feed.createDecodeBranch(kind, codec, error);
        INFO(error);
        REQUIRE(branch);
        gst_bin_add(GST_BIN(pipeline.get()), branch.get());
        GPtr<GstElement> queue = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), from));
        REQUIRE(gst_element_link(queue.get(), branch.get()));
    }
    void sendEos() { gst_element_send_event(pipeline.get(), gst_event_new_eos()); }
    ~FakeParticipant()
    {
        if (pipeline)
            gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    }
};

// An output bin with "video" → RGB appsink (latest frame kept) and "audio"
// → appsink, counting buffers and the loudest recent sample.
struct ProbeOutput
{
    GPtr<GstElement> bin;
    GstElement *videoSink = nullptr, *audioSink = nullptr; // borrowed from bin
    std::shared_ptr<std::atomic<unsigned>> videoBuffers
        = std::make_shared<std::atomic<unsigned>>(0);
    std::shared_ptr<std::atomic<unsigned>> audioBuffers
        = std::make_shared<std::atomic<unsigned>>(0);

    explicit ProbeOutput(const std::string &name, const std::string &videoTail = "")
    {
        std::string d = "videoconvert name=video ! video/x-raw,format=RGB " + videoTail
            + "! appsink name=vsink sync=false max-buffers=1 drop=true wait-on-eos=false "
              "audioconvert name=audio ! audio/x-raw,format=S16LE ! appsink name=asink sync=false "
              "max-buffers=1 drop=true wait-on-eos=false";
        GError *err = nullptr;
        bin = refSink(gst_parse_bin_from_description_full(
            d.c_str(), FALSE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err));
        if (err)
            FAIL(err->message);
        gst_object_set_name(GST_OBJECT(bin.get()), name.c_str());
        for (const char *entry : { "video", "audio" }) {
            GPtr<GstElement> e = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), entry));
            GPtr<GstPad> target = adopt(gst_element_get_static_pad(e.get(), "sink"));
            gst_element_add_pad(bin.get(), gst_ghost_pad_new(entry, target.get()));
        }
        GPtr<GstElement> v = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "vsink"));
        GPtr<GstElement> a = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "asink"));
        videoSink = v.get();
        audioSink = a.get();
        count(videoSink, videoBuffers);
        count(audioSink, audioBuffers);
    }
    static void count(GstElement *sink, const std::shared_ptr<std::atomic<unsigned>> &counter)
    {
        GPtr<GstPad> pad = adopt(gst_element_get_static_pad(sink, "sink"));
        gst_pad_add_probe(
            pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
            [](GstPad *, GstPadProbeInfo *, gpointer data) noexcept {
                ++**static_cast<std::shared_ptr<std::atomic<unsigned>> *>(data);
                return GST_PAD_PROBE_OK;
            },
            new std::shared_ptr<std::atomic<unsigned>>(counter),
            [](gpointer data) noexcept {
                delete static_cast<std::shared_ptr<std::atomic<unsigned>> *>(data);
            });
    }
    // The colour at (x, y) of the newest composite frame.
    bool pixel(int x, int y, Rgb &out) const
    {
        GPtr<GstSample> sample = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(videoSink), 0));
        if (sample)
            last_ = std::move(sample);
        if (!last_)
            return false;
        GstVideoInfo info;
        if (!gst_video_info_from_caps(&info, gst_sample_get_caps(last_.get())))
            return false;
        GstVideoFrame frame;
        if (!gst_video_frame_map(&frame, &info, gst_sample_get_buffer(last_.get()), GST_MAP_READ))
            return false;
        const auto *row = static_cast<const guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0))
            + y * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
        out = { row[x * 3], row[x * 3 + 1], row[x * 3 + 2] };
        gst_video_frame_unmap(&frame);
        return true;
    }
    // The loudest sample of the newest audio buffer.
    int peak() const
    {
        GPtr<GstSample> sample = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(audioSink), 0));
        if (!sample)
            return -1;
        GstMapInfo map;
        GstBuffer *buffer = gst_sample_get_buffer(sample.get());
        if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
            return -1;
        int loudest = 0;
        const auto *s = reinterpret_cast<const gint16 *>(map.data);
        for (size_t i = 0; i < map.size / 2; ++i)
            loudest = std::max(loudest, std::abs(static_cast<int>(s[i])));
        gst_buffer_unmap(buffer, &map);
        return loudest;
    }
    mutable GPtr<GstSample> last_;
};

// A shipped room-scope template, instantiated as the gateway does (defaults
// for every parameter, entries ghosted as "video" and "audio"), locations left to the caller.
GPtr<GstElement> roomTemplateBin(const std::string &name)
{
    PipelineTemplate tpl = findTemplate({ rc::test::sourcePipelinesDir() }, name);
    REQUIRE(tpl.scope == TemplateScope::room);
    std::string body = tpl.launch;
    for (const auto &p : tpl.params)
        for (size_t at; (at = body.find("${" + p.name + "}")) != std::string::npos;)
            body.replace(at, p.name.size() + 3, p.defaultValue);
    REQUIRE(body.find("${") == std::string::npos);
    GError *err = nullptr;
    GPtr<GstElement> bin = refSink(gst_parse_bin_from_description_full(
        body.c_str(), FALSE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err));
    if (err)
        FAIL(name << ": " << err->message);
    for (const char *entry : { "video", "audio" }) {
        GPtr<GstElement> e = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), entry));
        REQUIRE(e);
        GPtr<GstPad> target = adopt(gst_element_get_static_pad(e.get(), "sink"));
        gst_element_add_pad(bin.get(), gst_ghost_pad_new(entry, target.get()));
    }
    gst_object_set_name(GST_OBJECT(bin.get()), name.c_str());
    return bin;
}

struct Expect
{
    int x, y;
    Rgb colour;
};

struct Fixture
{
    GMainContext *context = g_main_context_new();
    std::vector<GstElement *> eos;
    std::vector<std::pair<GstElement *, std::string>> errors;
    std::vector<BusProblem> problems; // errors' detail, same order
    std::unique_ptr<RoomMixer> mixer;

    Fixture()
    {
        gst_init(nullptr, nullptr);
        requirePlugins();
        RoomMixer::Callbacks cb;
        cb.outputEos = [this](GstElement *bin) { eos.push_back(bin); };
        cb.outputError = [this](GstElement *bin, const BusProblem &problem) {
            errors.emplace_back(bin, problem.describe());
            problems.push_back(problem);
        };
        cb.failed = [](const std::string &message) { FAIL("mixer failed: " << message); };
        mixer = std::make_unique<RoomMixer>(
            context, RoomMixer::Settings { "test", kWidth, kHeight, 30 }, std::move(cb));
        std::string error;
        const bool started = mixer->start(error);
        INFO(error);
        REQUIRE(started);
    }
    ~Fixture()
    {
        mixer.reset();
        g_main_context_unref(context);
    }
    bool waitFor(const std::function<bool()> &pred, std::chrono::milliseconds timeout = 10s)
    {
        return iterateUntil(context, pred, timeout);
    }
    void spin(std::chrono::milliseconds time)
    {
        iterateUntil(
            context, [] { return false; }, time);
    }
    // Waits until every expected pixel has its colour; on timeout reports what was seen.
    void requireColours(const ProbeOutput &out, const std::vector<Expect> &expected)
    {
        std::string seen;
        bool ok = waitFor([&] {
            seen.clear();
            bool all = true;
            for (const auto &e : expected) {
                Rgb c;
                if (!out.pixel(e.x, e.y, c))
                    return false;
                seen += "(" + std::to_string(e.x) + "," + std::to_string(e.y) + ")=" + str(c)
                    + " want " + str(e.colour) + "; ";
                all = all && near(c, e.colour);
            }
            return all;
        });
        INFO(seen);
        REQUIRE(ok);
    }
};

} // namespace

TEST_CASE(
    "the composite shows each participant's colour in its tile as people join and leave", "[mixer]")
{
    Fixture f;
    ProbeOutput out("probe");
    std::string error;
    REQUIRE(f.mixer->addOutput(out.bin.get(), error));

    // Empty room: black and silence, flowing.
    f.requireColours(out, { { kWidth / 2, kHeight / 2, kBlack } });
    REQUIRE(f.waitFor([&] { return out.audioBuffers->load() > 10; }));

    auto redFeed = f.mixer->addParticipant("red");
    auto greenFeed = f.mixer->addParticipant("green");
    auto blueFeed = f.mixer->addParticipant("blue");
    // A tile appears at once, dark grey until its video is decoded.
    f.requireColours(out, { { 80 + 160, 180, kBlack } });
    FakeParticipant red(*redFeed, 0xffff0000, "VP8", true);
    FakeParticipant green(*greenFeed, 0xff00ff00, "H264", false);
    FakeParticipant blue(*blueFeed, 0xff0000ff, "VP8", false);

    // 3 in a 2x2 grid of 160x120 cells; 4:3 pictures fill them.
    f.requireColours(
        out, { { 80, 60, kRed }, { 240, 60, kGreen }, { 80, 180, kBlue }, { 240, 180, kBlack } });
    CHECK(f.mixer->layout().size() == 3);
    // The tone of the red participant is in the mix.
    REQUIRE(f.waitFor([&] { return out.peak() > 3000; }));

    // A fourth without video: a grey tile.
    auto silent = f.mixer->addParticipant("novideo");
    f.requireColours(out, { { 240, 180, kGrey }, { 80, 60, kRed } });

    // Green's pipeline ends: its tile turns grey, still in place.
    green.sendEos();
    f.requireColours(out, { { 240, 60, kGrey }, { 80, 60, kRed }, { 80, 180, kBlue } });

    // Two leave: red and blue side by side, 4:3 in 160x240 cells (160x120 at y=60).
    f.mixer->removeParticipant("green");
    f.mixer->removeParticipant("novideo");
    f.requireColours(
        out, { { 80, 120, kRed }, { 240, 120, kBlue }, { 80, 20, kBlack }, { 240, 220, kBlack } });
    CHECK(f.mixer->layout().size() == 2);

    // Everyone leaves: black, still flowing.
    f.mixer->removeParticipant("red");
    f.mixer->removeParticipant("blue");
    f.requireColours(out, { { 80, 120, kBlack }, { 240, 120, kBlack } });
    const unsigned before = out.videoBuffers->load(), audioBefore = out.audioBuffers->load();
    f.spin(1000ms);
    CHECK(out.videoBuffers->load() - before >= 20);
    CHECK(out.audioBuffers->load() - audioBefore >= 20);
    REQUIRE(f.waitFor([&] { return out.peak() == 0; }));

    // Someone joins again: the same stream goes on.
    auto again = f.mixer->addParticipant("red");
    FakeParticipant red2(*again, 0xffff0000, "VP8", false);
    f.requireColours(out, { { 160, 120, kRed } });
    CHECK(f.errors.empty());
}

// The size of the frames a participant's video decode branch hands to the mixer: the caps
// negotiated at its appsink ("0x0" before any).
std::string handedOverSize(const FakeParticipant &p)
{
    std::string size = "0x0";
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(p.pipeline.get()));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        auto *e = GST_ELEMENT(g_value_get_object(&item));
        GstElementFactory *factory = gst_element_get_factory(e);
        GstObject *parent = GST_OBJECT_PARENT(e);
        if (factory && std::string(GST_OBJECT_NAME(factory)) == "appsink" && parent
            && std::string(GST_OBJECT_NAME(parent)).rfind("mixfeed-video", 0) == 0) {
            GPtr<GstPad> pad = adopt(gst_element_get_static_pad(e, "sink"));
            GPtr<GstCaps> caps = adopt(gst_pad_get_current_caps(pad.get()));
            GstVideoInfo info;
            if (caps && gst_video_info_from_caps(&info, caps.get()))
                size = std::to_string(info.width) + "x" + std::to_string(info.height);
        }
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return size;
}

TEST_CASE("each participant's picture is scaled to its tile in its decode branch", "[mixer]")
{
    Fixture f;
    ProbeOutput out("probe");
    std::string error;
    REQUIRE(f.mixer->addOutput(out.bin.get(), error));
    auto redFeed = f.mixer->addParticipant("red");
    auto greenFeed = f.mixer->addParticipant("green");
    auto blueFeed = f.mixer->addParticipant("blue");
    FakeParticipant red(*redFeed, 0xffff0000, "VP8", false);
    FakeParticipant green(*greenFeed, 0xff00ff00, "H264", false);
    FakeParticipant blue(*blueFeed, 0xff0000ff, "VP8", false);

    // 640x480 pictures in 160x120 cells: decoded at 640x480, handed over at 160x120.
    f.requireColours(out, { { 80, 60, kRed }, { 240, 60, kGreen }, { 80, 180, kBlue } });
    std::string sizes;
    auto all = [&](const std::string &want) {
        return f.waitFor([&] {
            sizes = handedOverSize(red) + " " + handedOverSize(green) + " " + handedOverSize(blue);
            return sizes == want + " " + want + " " + want;
        });
    };
    const bool quarter = all("160x120");
    INFO(sizes);
    REQUIRE(quarter);
    for (const TileLayout &t : f.mixer->layout())
        CHECK((t.video.width == 160 && t.video.height == 120));

    // Two leave: the one left fills the frame, and its branch now scales to 320x240.
    f.mixer->removeParticipant("green");
    f.mixer->removeParticipant("blue");
    f.requireColours(out, { { 20, 20, kRed }, { 300, 220, kRed } });
    const bool whole = f.waitFor([&] {
        sizes = handedOverSize(red);
        return sizes == "320x240";
    });
    INFO(sizes);
    REQUIRE(whole);
    CHECK(f.errors.empty());
}

TEST_CASE(
    "finishOutput ends outputs with EOS at their sinks; shipped room templates finish their files",
    "[mixer]")
{
    Fixture f;
    ProbeOutput out("probe");
    std::string error;
    REQUIRE(f.mixer->addOutput(out.bin.get(), error));
    REQUIRE(f.waitFor([&] { return out.videoBuffers->load() > 10; }));
    auto feed = f.mixer->addParticipant("red");
    FakeParticipant red(*feed, 0xffff0000, "VP8", true);

    // The shipped composite-mp4 and hls templates, joining a running composite.
    rc::test::TempDir dir;
    GPtr<GstElement> mp4 = roomTemplateBin("composite-mp4");
    GPtr<GstElement> file = adopt(gst_bin_get_by_name(GST_BIN(mp4.get()), "file"));
    g_object_set(file.get(), "location", (dir / "room.mp4").c_str(), nullptr);
    REQUIRE(f.mixer->addOutput(mp4.get(), error));
    GPtr<GstElement> hls = roomTemplateBin("hls");
    GPtr<GstElement> hlsSink = adopt(gst_bin_get_by_name(GST_BIN(hls.get()), "hls"));
    g_object_set(hlsSink.get(), "location", (dir / "segment%05d.ts").c_str(), "playlist-location",
        (dir / "playlist.m3u8").c_str(), nullptr);
    REQUIRE(f.mixer->addOutput(hls.get(), error));
    CHECK(f.mixer->outputCount() == 3);
    f.spin(5000ms);

    f.mixer->finishOutput(out.bin.get());
    f.mixer->finishOutput(mp4.get());
    f.mixer->finishOutput(hls.get());
    const bool allEnded = f.waitFor([&] { return f.eos.size() == 3; });
    INFO("outputs ended: " << f.eos.size());
    REQUIRE(allEnded);
    for (GstElement *bin : { out.bin.get(), mp4.get(), hls.get() }) {
        CHECK(std::find(f.eos.begin(), f.eos.end(), bin) != f.eos.end());
        f.mixer->removeOutput(bin);
    }
    CHECK(f.mixer->outputCount() == 0);
    CHECK(f.errors.empty());
    // The mixer itself goes on without outputs.
    f.spin(200ms);

    std::string probe;
    REQUIRE(rc::test::runCommand(
        { "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of",
            "csv=p=0", dir / "room.mp4" },
        probe));
    CHECK(probe == "h264,320,240\naac\n");
    REQUIRE(rc::test::runCommand({ "ffprobe", "-v", "error", "-show_entries", "format=duration",
                                     "-of", "csv=p=0", dir / "room.mp4" },
        probe));
    CHECK(std::atof(probe.c_str()) == Approx(5.0).margin(0.8));

    const std::string playlist = rc::test::readFile(dir / "playlist.m3u8");
    INFO(playlist);
    CHECK(playlist.find("#EXT-X-ENDLIST") != std::string::npos);
    // 5 s in 2 s segments: two full ones, then the rest.
    for (const char *segment : { "segment00000.ts", "segment00001.ts" }) {
        CHECK(playlist.find(segment) != std::string::npos);
        REQUIRE(rc::test::runCommand({ "ffprobe", "-v", "error", "-show_entries", "format=duration",
                                         "-of", "csv=p=0", dir / segment },
            probe));
        CHECK(std::atof(probe.c_str()) == Approx(2.0).margin(0.5));
    }
}

TEST_CASE("an output whose sink fails is reported alone; the others keep going", "[mixer]")
{
    Fixture f;
    ProbeOutput good("good");
    // identity fails the stream after 10 frames, posting an ERROR from inside the bin.
    ProbeOutput bad("bad", "! identity error-after=10 ");
    std::string error;
    REQUIRE(f.mixer->addOutput(good.bin.get(), error));
    REQUIRE(f.mixer->addOutput(bad.bin.get(), error));
    auto feed = f.mixer->addParticipant("red");
    FakeParticipant red(*feed, 0xffff0000, "VP8", true);

    REQUIRE(f.waitFor([&] { return !f.errors.empty(); }));
    CHECK(f.errors.size() == 1);
    CHECK(f.errors.front().first == bad.bin.get());
    CHECK(f.errors.front().second.find("identity") != std::string::npos);
    const unsigned before = good.videoBuffers->load(), audioBefore = good.audioBuffers->load();
    f.spin(1000ms);
    CHECK(good.videoBuffers->load() - before >= 20);
    CHECK(good.audioBuffers->load() - audioBefore >= 20);
    f.requireColours(good, { { kWidth / 2, kHeight / 2, kRed } });

    // Removed (a retry would add a fresh bin): the good one is untouched.
    f.mixer->removeOutput(bad.bin.get());
    const unsigned after = good.videoBuffers->load();
    f.spin(500ms);
    CHECK(good.videoBuffers->load() - after >= 10);
    CHECK(f.errors.size() == 1);
}

TEST_CASE("an output whose disk is full is reported alone with filesink's NO_SPACE_LEFT", "[mixer]")
{
    Fixture f;
    ProbeOutput good("good");
    // /dev/full fails every write with ENOSPC, as a full file system does.
    GError *err = nullptr;
    GPtr<GstElement> full = refSink(gst_parse_bin_from_description_full(
        "videoconvert name=video ! video/x-raw,format=I420 "
        "! filesink name=file location=/dev/full buffer-mode=unbuffered sync=false",
        FALSE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err));
    if (err)
        FAIL(err->message);
    {
        GPtr<GstElement> entry = adopt(gst_bin_get_by_name(GST_BIN(full.get()), "video"));
        GPtr<GstPad> target = adopt(gst_element_get_static_pad(entry.get(), "sink"));
        gst_element_add_pad(full.get(), gst_ghost_pad_new("video", target.get()));
    }
    std::string error;
    REQUIRE(f.mixer->addOutput(good.bin.get(), error));
    REQUIRE(f.mixer->addOutput(full.get(), error));

    REQUIRE(f.waitFor([&] { return !f.errors.empty(); }));
    f.spin(300ms); // the muxer-less chain's echoes (an error flow) would come now
    REQUIRE(f.errors.size() == 1);
    CHECK(f.errors.front().first == full.get());
    const BusProblem &p = f.problems.front();
    INFO(p.describe() << " / " << p.debug);
    CHECK(p.domain == GST_RESOURCE_ERROR);
    CHECK(p.code == GST_RESOURCE_ERROR_NO_SPACE_LEFT);
    CHECK(p.sourceName == "file");
    const unsigned before = good.videoBuffers->load();
    f.spin(500ms);
    CHECK(good.videoBuffers->load() - before >= 10);
    f.mixer->removeOutput(full.get());
    CHECK(f.mixer->outputCount() == 1);
}

TEST_CASE("outputs that fail without an ERROR message, or cannot take the composite, fail alone",
    "[mixer]")
{
    Fixture f;
    ProbeOutput good("good");
    std::string error;
    REQUIRE(f.mixer->addOutput(good.bin.get(), error));

    // Only RGB: cannot link to the I420 composite at all; refused at once.
    GError *err = nullptr;
    GPtr<GstElement> picky = refSink(gst_parse_bin_from_description_full(
        "capsfilter name=video caps=video/x-raw,format=RGB ! fakesink sync=false", FALSE, nullptr,
        GST_PARSE_FLAG_FATAL_ERRORS, &err));
    if (err)
        FAIL(err->message);
    {
        GPtr<GstElement> entry = adopt(gst_bin_get_by_name(GST_BIN(picky.get()), "video"));
        GPtr<GstPad> target = adopt(gst_element_get_static_pad(entry.get(), "sink"));
        gst_element_add_pad(picky.get(), gst_ghost_pad_new("video", target.get()));
    }
    CHECK_FALSE(f.mixer->addOutput(picky.get(), error));
    CHECK_FALSE(error.empty());
    CHECK(GST_OBJECT_PARENT(picky.get()) == nullptr);
    CHECK(f.mixer->outputCount() == 1);

    // A sink that returns an error flow without posting anything: the
    // output is reported through outputError all the same.
    ProbeOutput silent("silent");
    GstAppSinkCallbacks callbacks {};
    callbacks.new_sample = [](GstAppSink *sink, gpointer) noexcept {
        GPtr<GstSample> sample = adopt(gst_app_sink_pull_sample(sink));
        return GST_FLOW_ERROR;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(silent.videoSink), &callbacks, nullptr, nullptr);
    REQUIRE(f.mixer->addOutput(silent.bin.get(), error));
    REQUIRE(f.waitFor([&] { return !f.errors.empty(); }));
    CHECK(f.errors.front().first == silent.bin.get());
    INFO(f.errors.front().second);
    CHECK(f.errors.front().second.find("error") != std::string::npos);

    const unsigned before = good.videoBuffers->load();
    f.spin(500ms);
    CHECK(good.videoBuffers->load() - before >= 10);
    f.mixer->removeOutput(silent.bin.get());
    CHECK(f.errors.size() == 1);
    CHECK(f.mixer->outputCount() == 1);
}

// Every ERROR and WARNING a participant's pipeline posted so far (its bus has no watch: they
// queue there), as "source: message" lines.
std::vector<std::string> busProblems(const FakeParticipant &p)
{
    std::vector<std::string> out;
    GPtr<GstBus> bus = adopt(gst_element_get_bus(p.pipeline.get()));
    while (GstMessage *raw = gst_bus_pop_filtered(
               bus.get(), static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
        GPtr<GstMessage> message = adopt(raw);
        const auto problem = readBusProblem(message.get(), "unknown");
        out.push_back(problem->sourcePath + ": " + problem->message);
    }
    return out;
}

// Counts the caps events that the size capsfilter of a participant's video decode branch
// refuses: a probe sees each one just before the capsfilter checks it against its caps, and
// counts those that do not fit them. A capsfilter whose caps change while the scaler in front
// of it negotiates refuses what the scaler then sends (that frame is lost).
struct RefusedCaps
{
    std::shared_ptr<std::atomic<unsigned>> count = std::make_shared<std::atomic<unsigned>>(0);

    void watch(const FakeParticipant &p)
    {
        forEachElement(GST_BIN(p.pipeline.get()), [this](GstElement *e) {
            GstElementFactory *factory = gst_element_get_factory(e);
            GstObject *parent = GST_OBJECT_PARENT(e);
            if (factory && std::string(GST_OBJECT_NAME(factory)) == "capsfilter" && parent
                && std::string(GST_OBJECT_NAME(parent)).rfind("mixfeed-video", 0) == 0) {
                GPtr<GstPad> pad = adopt(gst_element_get_static_pad(e, "sink"));
                gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, check,
                    new std::shared_ptr<std::atomic<unsigned>>(count), drop);
            }
            return true;
        });
    }
    static GstPadProbeReturn check(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
    {
        GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
        if (!event || GST_EVENT_TYPE(event) != GST_EVENT_CAPS)
            return GST_PAD_PROBE_OK;
        GstCaps *caps = nullptr;
        gst_event_parse_caps(event, &caps);
        GPtr<GstElement> filter = adopt(gst_pad_get_parent_element(pad));
        GstCaps *wanted = nullptr;
        g_object_get(filter.get(), "caps", &wanted, nullptr);
        GPtr<GstCaps> owned = adopt(wanted);
        if (caps && owned && !gst_caps_is_subset(caps, owned.get()))
            ++**static_cast<std::shared_ptr<std::atomic<unsigned>> *>(data);
        return GST_PAD_PROBE_OK;
    }
    static void drop(gpointer data) noexcept
    {
        delete static_cast<std::shared_ptr<std::atomic<unsigned>> *>(data);
    }
};

TEST_CASE("layout changes while a participant streams never fail its pipeline", "[mixer]")
{
    // Each join or leave re-scales the others' decode branches (MixLane::scaleTo sets the
    // capsfilter while frames flow). With videoconvert right before that capsfilter, a leave
    // once failed the remaining participant's pipeline with not-negotiated (2026-12-05, under
    // the sanitizers): here the sizes change many times, at varied moments of the frame period.
    Fixture f;
    ProbeOutput out("probe");
    std::string error;
    REQUIRE(f.mixer->addOutput(out.bin.get(), error));
    auto bobFeed = f.mixer->addParticipant("bob");
    FakeParticipant bob(*bobFeed, 0xffff0000, "VP8", true);
    auto carolFeed = f.mixer->addParticipant("carol");
    FakeParticipant carol(*carolFeed, 0xff0000ff, "H264", false);
    RefusedCaps refused;
    refused.watch(bob);
    refused.watch(carol);
    f.requireColours(out, { { 80, 120, kRed }, { 240, 120, kBlue } });

    // Three participants without video join and leave in turn: 2 tiles and 5, so bob's and
    // carol's pictures go from 160x120 to 106x80 and back, 400 times, at every phase of their
    // 67 ms frame period.
    std::vector<std::string> present;
    for (int i = 0; i < 400; ++i) {
        if (present.empty()) {
            for (int g = 0; g < 3; ++g) {
                present.push_back("guest" + std::to_string(i) + "-" + std::to_string(g));
                f.mixer->addParticipant(present.back());
            }
        } else {
            for (const auto &id : present)
                f.mixer->removeParticipant(id);
            present.clear();
        }
        f.spin(std::chrono::milliseconds(2 + (i * 37) % 41));
        if (i % 50 == 49) {
            std::string all;
            for (const auto &p : busProblems(bob))
                all += "bob " + p + "; ";
            for (const auto &p : busProblems(carol))
                all += "carol " + p + "; ";
            INFO("after " << i + 1 << " layout changes: " << all);
            REQUIRE(all.empty());
        }
    }
    for (const auto &id : present)
        f.mixer->removeParticipant(id);

    // Both still stream into the composite, at the size of the last layout.
    f.requireColours(out, { { 80, 120, kRed }, { 240, 120, kBlue } });
    std::string sizes;
    const bool settled = f.waitFor([&] {
        sizes = handedOverSize(bob) + " " + handedOverSize(carol);
        return sizes == "160x120 160x120";
    });
    INFO(sizes);
    CHECK(settled);
    const unsigned before = out.videoBuffers->load();
    f.spin(500ms);
    CHECK(out.videoBuffers->load() - before >= 10);
    const auto problems = busProblems(bob);
    CHECK(problems.empty());
    CHECK(f.errors.empty());
    // The size changes between two frames, on the thread that negotiates: no frame is refused.
    CHECK(refused.count->load() == 0);
}
