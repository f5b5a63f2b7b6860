// The room composite engine without WebRTC: participants joining and leaving, tiles scaled in
// their decode branches, outputs finishing and failing alone (fixture: room_mixer_fixture.h).
#include "room_mixer_fixture.h"

using namespace mixertest;

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
