// Tests of the session manifest: content, escaping of display names, atomic rewriting.
#include "common/base/json.h"
#include "gateway/room/manifest.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <sys/stat.h>

using namespace rc::gateway;
using namespace std::chrono;

namespace {

system_clock::time_point t0()
{
    return system_clock::time_point(seconds(1795493700));
}

rc::GPtr<JsonNode> parseFile(const std::string &path)
{
    std::string error;
    auto node = rc::json::parse(rc::test::readFile(path), error);
    INFO(error);
    REQUIRE(node);
    REQUIRE(JSON_NODE_HOLDS_OBJECT(node.get()));
    return node;
}

JsonObject *member(JsonArray *a, guint i)
{
    return json_array_get_object_element(a, i);
}

} // namespace

TEST_CASE("the manifest records participants and files on the session clock", "[manifest]")
{
    rc::test::TempDir dir;
    Manifest m(dir / "manifest.json", "standup", t0());
    m.participantJoined("p1", std::string("alice"), t0() + milliseconds(1500));
    m.participantJoined("p2", std::nullopt, t0() + seconds(2));
    m.fileStarted("p1", "p1.mkv", "record-mkv", "VP8", "OPUS", 1.75);
    m.fileFinished("p1.mkv", 10.5, 123456);
    m.participantLeft("p1", t0() + seconds(12));
    m.sessionEnded(t0() + seconds(13));
    CHECK(m.lastError().empty());

    auto root = parseFile(dir / "manifest.json");
    JsonObject *o = json_node_get_object(root.get());
    CHECK(rc::json::stringMember(o, "room") == "standup");
    CHECK(rc::json::stringMember(o, "session_start") == "2026-11-24T04:15:00.000Z");
    CHECK(rc::json::intMember(o, "version") == 1);
    CHECK(rc::json::numberMember(o, "session_end") == Approx(13.0));
    JsonArray *people = rc::json::arrayMember(o, "participants");
    REQUIRE(people);
    REQUIRE(json_array_get_length(people) == 2);
    CHECK(rc::json::stringMember(member(people, 0), "name") == "alice");
    CHECK(rc::json::numberMember(member(people, 0), "joined") == Approx(1.5));
    CHECK(rc::json::numberMember(member(people, 0), "left") == Approx(12.0));
    CHECK(rc::json::isNullMember(member(people, 1), "name"));
    CHECK(rc::json::isNullMember(member(people, 1), "left"));
    JsonArray *files = rc::json::arrayMember(o, "files");
    REQUIRE(json_array_get_length(files) == 1);
    JsonObject *f = member(files, 0);
    CHECK(rc::json::stringMember(f, "path") == "p1.mkv");
    CHECK(rc::json::stringMember(f, "participant") == "p1");
    CHECK(rc::json::stringMember(f, "template") == "record-mkv");
    CHECK(rc::json::stringMember(f, "video_codec") == "VP8");
    CHECK(rc::json::stringMember(f, "audio_codec") == "OPUS");
    CHECK(rc::json::numberMember(f, "start") == Approx(1.75));
    CHECK(rc::json::numberMember(f, "duration") == Approx(10.5));
    CHECK(rc::json::intMember(f, "bytes") == 123456);
    CHECK(rc::json::boolMember(f, "finished") == true);
}

TEST_CASE("a reused peer id gets a second presence", "[manifest]")
{
    rc::test::TempDir dir;
    Manifest m(dir / "manifest.json", "r", t0());
    m.participantJoined("p1", std::string("a"), t0());
    m.participantLeft("p1", t0() + seconds(1));
    m.participantJoined("p1", std::string("b"), t0() + seconds(5));
    auto root = parseFile(dir / "manifest.json");
    JsonArray *people = rc::json::arrayMember(json_node_get_object(root.get()), "participants");
    REQUIRE(json_array_get_length(people) == 2);
    CHECK(rc::json::numberMember(member(people, 0), "left") == Approx(1.0));
    CHECK(rc::json::isNullMember(member(people, 1), "left"));
}

TEST_CASE("times are written to the millisecond, not as 17-digit doubles", "[manifest]")
{
    rc::test::TempDir dir;
    Manifest m(dir / "manifest.json", "r 1.25", t0());
    // A name that looks like a number stays as the participant wrote it.
    m.participantJoined("p1", std::string("0.1234567"), t0() + microseconds(1407999));
    m.fileStarted("p1", "p1.mkv", "record-mkv", "VP8", "OPUS", 0.1 + 0.2);
    m.fileFinished("p1.mkv", 11.408, 3);
    m.sessionEnded(t0() + seconds(13));
    const std::string text = rc::test::readFile(dir / "manifest.json");
    INFO(text);
    CHECK(text.find("\"duration\" : 11.408,") != std::string::npos);
    CHECK(text.find("\"start\" : 0.3,") != std::string::npos);
    CHECK(text.find("\"joined\" : 1.408,") != std::string::npos);
    CHECK(text.find("\"session_end\" : 13.0,") != std::string::npos);
    CHECK(text.find("\"bytes\" : 3,") != std::string::npos);
    CHECK(text.find("\"0.1234567\"") != std::string::npos);
    CHECK(text.find("\"r 1.25\"") != std::string::npos);
    CHECK(text.find("99999") == std::string::npos);
    CHECK(text.find("00000") == std::string::npos);
    auto root = parseFile(dir / "manifest.json");
    JsonObject *f = member(rc::json::arrayMember(json_node_get_object(root.get()), "files"), 0);
    CHECK(rc::json::numberMember(f, "duration") == Approx(11.408));
}

TEST_CASE("display names are data: hostile names round-trip through JSON", "[manifest][injection]")
{
    const std::vector<std::string> names = {
        "\"quoted\" \\backslash\\",
        "new\nline\ttab\r",
        "</script><script>alert(1)</script>",
        "{\"type\":\"fake\"}",
        "caf\xc3\xa9 \xf0\x9f\x8e\xa5",
        std::string("nul\0inside", 10),
        "\x01\x1f control",
    };
    rc::test::TempDir dir;
    Manifest m(dir / "manifest.json", "r", t0());
    for (size_t i = 0; i < names.size(); ++i)
        m.participantJoined("p" + std::to_string(i), names[i], t0());
    auto root = parseFile(dir / "manifest.json");
    JsonArray *people = rc::json::arrayMember(json_node_get_object(root.get()), "participants");
    REQUIRE(json_array_get_length(people) == names.size());
    for (size_t i = 0; i < names.size(); ++i) {
        INFO(i);
        auto got = rc::json::stringMember(member(people, static_cast<guint>(i)), "name");
        REQUIRE(got);
        if (names[i].find('\0') == std::string::npos)
            CHECK(*got == names[i]);
        else
            CHECK(
                got->rfind("nul", 0) == 0); // json-glib strings end at NUL; the file is still valid
    }
    std::string text = rc::test::readFile(dir / "manifest.json");
    CHECK(text.find("new\nline") == std::string::npos); // escaped, not raw
}

TEST_CASE("invalid UTF-8 in a name still yields valid JSON", "[manifest]")
{
    rc::test::TempDir dir;
    Manifest m(dir / "manifest.json", "r", t0());
    m.participantJoined("p1", std::string("bad \xff\xfe utf8"), t0());
    auto root = parseFile(dir / "manifest.json");
    JsonArray *people = rc::json::arrayMember(json_node_get_object(root.get()), "participants");
    auto name = rc::json::stringMember(member(people, 0), "name");
    REQUIRE(name);
    CHECK(g_utf8_validate(name->c_str(), -1, nullptr));
}

TEST_CASE("the manifest is replaced atomically and is always valid JSON", "[manifest]")
{
    rc::test::TempDir dir;
    std::string path = dir / "manifest.json";
    Manifest m(path, "r", t0());
    struct stat before
    {
    };
    for (int i = 0; i < 50; ++i) {
        m.participantJoined("p" + std::to_string(i), std::string(i * 50, 'x'), t0() + seconds(i));
        // Every state on disk parses, and no temp file is left behind.
        auto root = parseFile(path);
        JsonArray *people = rc::json::arrayMember(json_node_get_object(root.get()), "participants");
        CHECK(json_array_get_length(people) == static_cast<guint>(i + 1));
        struct stat st
        {
        };
        REQUIRE(::stat(path.c_str(), &st) == 0);
        if (i > 0)
            CHECK(st.st_ino != before.st_ino); // a new file renamed over, never rewritten in place
        before = st;
    }
    size_t entries = 0;
    for (const auto &e : std::filesystem::directory_iterator(dir.path())) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);
    CHECK((before.st_mode & 0777) == 0640);
}

TEST_CASE("a failed write is reported, not thrown", "[manifest]")
{
    Manifest m("/nonexistent-roomcast-dir/manifest.json", "r", t0());
    CHECK_NOTHROW(m.participantJoined("p1", std::nullopt, t0()));
    CHECK_FALSE(m.lastError().empty());
    std::string error;
    CHECK_FALSE(m.write(error));
    CHECK(error.find("/nonexistent-roomcast-dir") != std::string::npos);
}

TEST_CASE("gaps are listed with participant, output, cause, start and end", "[manifest][gaps]")
{
    rc::test::TempDir dir;
    Manifest m(dir / "manifest.json", "r", t0());
    m.gapStarted("p1", "", Manifest::GapCause::Network, 4.25);
    m.gapStarted("p1", "", Manifest::GapCause::Network, 5.0); // already open: ignored
    m.gapStarted("", "out-1", Manifest::GapCause::DiskFull, 6.0);
    m.gapEnded("p1", "", Manifest::GapCause::Network, 14.5);
    m.gapEnded("p1", "", Manifest::GapCause::SenderPaused, 15.0); // none open: no-op
    CHECK(m.lastError().empty());

    auto root = parseFile(dir / "manifest.json");
    JsonArray *gaps = rc::json::arrayMember(json_node_get_object(root.get()), "gaps");
    REQUIRE(gaps);
    REQUIRE(json_array_get_length(gaps) == 2);
    JsonObject *g = member(gaps, 0);
    CHECK(rc::json::stringMember(g, "participant") == "p1");
    CHECK(rc::json::isNullMember(g, "output"));
    CHECK(rc::json::stringMember(g, "cause") == "network");
    CHECK(rc::json::numberMember(g, "start") == Approx(4.25));
    CHECK(rc::json::numberMember(g, "end") == Approx(14.5));
    g = member(gaps, 1);
    CHECK(rc::json::isNullMember(g, "participant"));
    CHECK(rc::json::stringMember(g, "output") == "out-1");
    CHECK(rc::json::stringMember(g, "cause") == "disk-full");
    CHECK(rc::json::isNullMember(g, "end"));
    CHECK(std::string(Manifest::gapCauseName(Manifest::GapCause::SenderPaused)) == "sender-paused");
    CHECK(std::string(Manifest::gapCauseName(Manifest::GapCause::GatewayRestart))
        == "gateway-restart");
}

TEST_CASE("a template that cannot take a participant's codec is listed once under skipped",
    "[manifest][skipped]")
{
    rc::test::TempDir dir;
    Manifest m(dir / "manifest.json", "r", t0());
    m.templateSkipped("p1", "record-webm", "video codec H264 not taken");
    m.templateSkipped("p1", "record-webm", "video codec H264 not taken"); // said once
    m.templateSkipped("p2", "record-mp4", "video codec VP8 not taken");
    CHECK(m.lastError().empty());

    auto root = parseFile(dir / "manifest.json");
    JsonArray *skipped = rc::json::arrayMember(json_node_get_object(root.get()), "skipped");
    REQUIRE(skipped);
    REQUIRE(json_array_get_length(skipped) == 2);
    JsonObject *k = member(skipped, 0);
    CHECK(rc::json::stringMember(k, "participant") == "p1");
    CHECK(rc::json::stringMember(k, "template") == "record-webm");
    CHECK(rc::json::stringMember(k, "reason") == "video codec H264 not taken");
    k = member(skipped, 1);
    CHECK(rc::json::stringMember(k, "participant") == "p2");
    CHECK(rc::json::stringMember(k, "template") == "record-mp4");
}

TEST_CASE("a paused output's gap is listed with cause paused and read back", "[manifest][gaps]")
{
    rc::test::TempDir dir;
    Manifest m(dir / "manifest.json", "r", t0());
    m.gapStarted("p1", "record-mkv-1", Manifest::GapCause::Paused, 10.0);
    m.gapStarted("", "composite-mp4-1", Manifest::GapCause::Paused, 10.0);
    m.gapEnded("p1", "record-mkv-1", Manifest::GapCause::Paused, 13.0);
    // Another cause of the same output is another gap: the resume does not close it.
    m.gapEnded("", "composite-mp4-1", Manifest::GapCause::DiskFull, 12.0);
    REQUIRE(m.lastError().empty());
    CHECK(std::string(Manifest::gapCauseName(Manifest::GapCause::Paused)) == "paused");

    const std::string text = m.toJson();
    Manifest back(dir / "other.json", "r", t0());
    std::string error;
    REQUIRE(back.load(text, error));
    CHECK(back.toJson() == text);
    auto root = parseFile(dir / "manifest.json");
    JsonArray *gaps = rc::json::arrayMember(json_node_get_object(root.get()), "gaps");
    REQUIRE(json_array_get_length(gaps) == 2);
    CHECK(rc::json::stringMember(member(gaps, 0), "cause") == "paused");
    CHECK(rc::json::numberMember(member(gaps, 0), "end") == Approx(13.0));
    CHECK(rc::json::isNullMember(member(gaps, 1), "end"));

    // A crash while paused: the restart closes the open pause at the last known time.
    back.continueAfterRestart(back.lastKnownOffset());
    std::string parseError;
    auto after = rc::json::parse(back.toJson(), parseError);
    REQUIRE(after);
    JsonArray *closed = rc::json::arrayMember(json_node_get_object(after.get()), "gaps");
    REQUIRE(closed);
    for (guint i = 0; i < json_array_get_length(closed); ++i)
        CHECK_FALSE(rc::json::isNullMember(member(closed, i), "end"));
}
