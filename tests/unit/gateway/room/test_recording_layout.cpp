// Tests of recording paths: session stamps, sanitising, collision suffixes, folder creation.
#include "gateway/room/recording_layout.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <sys/stat.h>

using namespace rc::gateway;
using namespace std::chrono;

namespace {
system_clock::time_point at(int64_t unixSeconds)
{
    return system_clock::time_point(seconds(unixSeconds));
}
} // namespace

TEST_CASE("sessionStamp is UTC ISO-8601 basic", "[layout]")
{
    CHECK(sessionStamp(at(0)) == "19700101T000000Z");
    CHECK(sessionStamp(at(1795493700)) == "20261124T041500Z");
    CHECK(sessionStamp(at(1795493700) + milliseconds(999)) == "20261124T041500Z");
}

TEST_CASE("sanitizeFileComponent", "[layout]")
{
    CHECK(sanitizeFileComponent("p1") == "p1");
    CHECK(sanitizeFileComponent("a.b_c-D") == "a.b_c-D");
    CHECK(sanitizeFileComponent("") == "_");
    CHECK(sanitizeFileComponent(".") == "_");
    CHECK(sanitizeFileComponent("..") == "_.");
    CHECK(sanitizeFileComponent(".hidden") == "_hidden");
    CHECK(sanitizeFileComponent("../../etc") == "_._.._etc");
    CHECK(sanitizeFileComponent("a/b") == "a_b");
    CHECK(sanitizeFileComponent("caf\xc3\xa9") == "caf__");
    CHECK(sanitizeFileComponent(std::string("a\0b", 3)) == "a_b");
    CHECK(sanitizeFileComponent(std::string(200, 'x')).size() == 64);
    for (const char *s : { "..", ".", "/", "a/../b", "\n", " " }) {
        std::string out = sanitizeFileComponent(s);
        CHECK(out != ".");
        CHECK(out != "..");
        CHECK(out.find('/') == std::string::npos);
        CHECK_FALSE(out.empty());
    }
}

TEST_CASE("RecordingLayout paths", "[layout]")
{
    RecordingLayout layout("/srv/rec", "standup", at(1795493700));
    CHECK(layout.sessionDir() == "/srv/rec/standup/20261124T041500Z");
    CHECK(layout.manifestPath() == "/srv/rec/standup/20261124T041500Z/manifest.json");
    CHECK(layout.participantFile("p1", "mkv") == "/srv/rec/standup/20261124T041500Z/p1.mkv");
    CHECK(layout.relativeToSession("/srv/rec/standup/20261124T041500Z/p1.mkv") == "p1.mkv");
    RecordingLayout hostile("/srv/rec", "../../etc", at(0));
    CHECK(hostile.sessionDir() == "/srv/rec/_._.._etc/19700101T000000Z");
}

TEST_CASE("participantFile never reuses a name", "[layout]")
{
    rc::test::TempDir root;
    RecordingLayout layout(root.path(), "room", at(1795493700));
    std::string error;
    REQUIRE(layout.ensureSessionDir(error));
    std::string first = layout.participantFile("p1", "mkv");
    CHECK(std::filesystem::path(first).filename() == "p1.mkv");
    // Handed out but not yet created: still not reused.
    CHECK(std::filesystem::path(layout.participantFile("p1", "mkv")).filename() == "p1-2.mkv");
    // Existing on disk (e.g. from a previous gateway run in the same second): skipped.
    rc::test::writeFile(layout.sessionDir() + "/p1-3.mkv", "x");
    CHECK(std::filesystem::path(layout.participantFile("p1", "mkv")).filename() == "p1-4.mkv");
    // Another extension is another name.
    CHECK(std::filesystem::path(layout.participantFile("p1", "webm")).filename() == "p1.webm");
    // A peer whose id is literally "p1-2" does not collide either.
    CHECK(std::filesystem::path(layout.participantFile("p1-2", "mkv")).filename() == "p1-2-2.mkv");
    // The manifest's name is reserved.
    CHECK(
        std::filesystem::path(layout.roomFile("manifest", "json")).filename() == "manifest-2.json");
    // A second layout on the same folder sees the files that exist.
    rc::test::writeFile(first, "x");
    RecordingLayout again(root.path(), "room", at(1795493700));
    CHECK(std::filesystem::path(again.participantFile("p1", "mkv")).filename() == "p1-2.mkv");
}

TEST_CASE("a continued session's parts skip every existing name", "[layout][resume]")
{
    rc::test::TempDir root;
    RecordingLayout crashed(root.path(), "room", at(1795493700));
    std::string error;
    REQUIRE(crashed.ensureSessionDir(error));
    // The crashed run wrote p1.mkv and, after a full disk, p1-2.mkv.
    rc::test::writeFile(crashed.participantFile("p1", "mkv"), "x");
    rc::test::writeFile(crashed.participantFile("p1", "mkv"), "x");
    // The restarted gateway's layout of the same folder starts at part 3, never overwriting.
    RecordingLayout restarted(root.path(), "room", at(1795493700));
    CHECK(restarted.sessionDir() == crashed.sessionDir());
    CHECK(std::filesystem::path(restarted.participantFile("p1", "mkv")).filename() == "p1-3.mkv");
    CHECK(std::filesystem::path(restarted.participantFile("p2", "mkv")).filename() == "p2.mkv");
    CHECK(rc::test::readFile(crashed.sessionDir() + "/p1.mkv") == "x");
    // Free space is known for an existing folder.
    auto room = restarted.freeBytes();
    REQUIRE(room);
    CHECK(*room > 0);
    CHECK_FALSE(RecordingLayout(root / "nowhere", "r", at(0)).freeBytes());
}

TEST_CASE("ensureSessionDir creates the folders with mode 0750", "[layout]")
{
    rc::test::TempDir root;
    RecordingLayout layout(root / "deep/er", "room", at(0));
    std::string error;
    REQUIRE(layout.ensureSessionDir(error));
    REQUIRE(layout.ensureSessionDir(error)); // idempotent
    struct stat st
    {
    };
    REQUIRE(::stat(layout.sessionDir().c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 0777 & ~0750) == 0);

    rc::test::writeFile(root / "file", "x");
    RecordingLayout blocked(root / "file", "room", at(0));
    CHECK_FALSE(blocked.ensureSessionDir(error));
    CHECK(error.find("cannot create") != std::string::npos);
}
