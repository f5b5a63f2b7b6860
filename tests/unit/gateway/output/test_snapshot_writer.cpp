// SnapshotWriter: latest.jpg replaced whole (temporary file + rename), the numbered series and
// its limit, failures that leave the last picture in place.
#include "gateway/output/snapshot_writer.h"

#include <catch2/catch.hpp>

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using rc::gateway::SnapshotWriter;
namespace fs = std::filesystem;

namespace {

struct TempDir
{
    std::string path;
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "snapwriter-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()));
        path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

bool write(SnapshotWriter &w, const std::string &bytes)
{
    std::string why;
    return w.write(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), why);
}

std::vector<std::string> names(const std::string &dir)
{
    std::vector<std::string> out;
    for (const auto &e : fs::directory_iterator(dir))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("latest.jpg is replaced by a new file each time, nothing else is left", "[snapshot]")
{
    TempDir dir;
    SnapshotWriter w(dir.path, 0);
    CHECK(w.latestPath() == dir.path + "/latest.jpg");
    REQUIRE(write(w, "first picture"));
    CHECK(read(w.latestPath()) == "first picture");
    struct stat before
    {
    };
    REQUIRE(::stat(w.latestPath().c_str(), &before) == 0);
    CHECK((before.st_mode & 0777) == 0640);
    // A reader holding the old file keeps reading the old picture: a new inode, not an
    // overwrite in place.
    std::ifstream held(w.latestPath(), std::ios::binary);
    REQUIRE(write(w, "the second, longer picture"));
    struct stat after
    {
    };
    REQUIRE(::stat(w.latestPath().c_str(), &after) == 0);
    CHECK(after.st_ino != before.st_ino);
    CHECK(std::string(std::istreambuf_iterator<char>(held), {}) == "first picture");
    CHECK(read(w.latestPath()) == "the second, longer picture");
    CHECK(names(dir.path) == std::vector<std::string> { "latest.jpg" });
    CHECK(w.written() == 2);
}

TEST_CASE("keep N numbers the pictures and removes older ones", "[snapshot]")
{
    TempDir dir;
    SnapshotWriter w(dir.path, 2);
    for (int i = 1; i <= 4; ++i)
        REQUIRE(write(w, "picture " + std::to_string(i)));
    CHECK(names(dir.path) == std::vector<std::string> { "000003.jpg", "000004.jpg", "latest.jpg" });
    CHECK(read(dir.path + "/000003.jpg") == "picture 3");
    CHECK(read(dir.path + "/000004.jpg") == "picture 4");
    CHECK(read(w.latestPath()) == "picture 4");
}

TEST_CASE("a failed write leaves the last picture and no temporary file", "[snapshot]")
{
    TempDir dir;
    SnapshotWriter missing(dir.path + "/gone", 0);
    std::string why;
    CHECK_FALSE(missing.write(reinterpret_cast<const uint8_t *>("x"), 1, why));
    CHECK_FALSE(why.empty());

    SnapshotWriter w(dir.path, 0);
    REQUIRE(write(w, "kept"));
    if (::geteuid() != 0) { // root writes anyway
        ::chmod(dir.path.c_str(), 0500);
        CHECK_FALSE(write(w, "lost"));
        ::chmod(dir.path.c_str(), 0700);
        CHECK(read(w.latestPath()) == "kept");
    }
    CHECK(names(dir.path) == std::vector<std::string> { "latest.jpg" });
}

namespace {

// Pushes I420 frames at the given timestamps (seconds) through "appsrc ! videorate name=rate !
// 1/2 fps ! jpegenc ! appsink name=snapshot" with the writer attached (keep 1000), and counts
// the pictures written.
size_t picturesFor(const std::vector<double> &timestamps, bool named)
{
    TempDir dir;
    gst_init(nullptr, nullptr);
    const std::string rate = named ? "videorate name=rate" : "videorate";
    GError *raw = nullptr;
    GstElement *pipeline = gst_parse_launch(
        ("appsrc name=src format=time caps=video/x-raw,format=I420,width=64,height=48,"
         "framerate=0/1 ! "
            + rate
            + " skip-to-first=true ! video/x-raw,framerate=1/2 ! videoconvert ! jpegenc ! "
              "appsink name=snapshot sync=false")
            .c_str(),
        &raw);
    REQUIRE(pipeline);
    REQUIRE(raw == nullptr);
    rc::gateway::SnapshotTarget target { dir.path, 1000, {} };
    std::string error;
    REQUIRE(rc::gateway::attachSnapshotWriter(pipeline, target, error));
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    for (double t : timestamps) {
        GstBuffer *frame = gst_buffer_new_allocate(nullptr, 64 * 48 * 3 / 2, nullptr);
        gst_buffer_memset(frame, 0, 0x80, 64 * 48 * 3 / 2);
        GST_BUFFER_PTS(frame) = static_cast<GstClockTime>(t * GST_SECOND);
        REQUIRE(gst_app_src_push_buffer(GST_APP_SRC(src), frame) == GST_FLOW_OK);
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, 10 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    CHECK((msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS));
    if (msg)
        gst_message_unref(msg);
    gst_object_unref(bus);
    gst_object_unref(src);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    size_t numbered = 0;
    for (const auto &name : names(dir.path))
        numbered += name != "latest.jpg";
    return numbered;
}

} // namespace

TEST_CASE("repeated timestamps do not run the snapshot rate ahead of the stream", "[snapshot]")
{
    // 8 s at 30 fps, with 40 frames stuck at 2.0 s in the middle (a starved jitterbuffer's
    // burst): one picture per 2 s slot, 4 or 5 in all.
    std::vector<double> ts;
    for (int i = 0; i < 60; ++i)
        ts.push_back(i / 30.0);
    for (int i = 0; i < 40; ++i)
        ts.push_back(2.0);
    for (int i = 61; i < 240; ++i)
        ts.push_back(i / 30.0);
    const size_t pictures = picturesFor(ts, true);
    CHECK(pictures >= 4);
    CHECK(pictures <= 5);
    // Without the gateway's probe (the element not named "rate") videorate runs away: this is
    // what the probe is for.
    CHECK(picturesFor(ts, false) > 20);
}
