// Continuing a session after a restart: the manifest read back (round trip, corrupt and hostile
// input), the crash closing what was open, the resume decision on times, and the folder scan.
#include "common/base/json.h"
#include "common/base/log.h"
#include "gateway/room/manifest.h"
#include "gateway/room/recording_layout.h"
#include "gateway/room/session_resume.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace rc::gateway;
using namespace std::chrono;

namespace {

system_clock::time_point t0()
{
    return system_clock::time_point(seconds(1795493700)); // 20261124T041500Z
}

JsonObject *entry(JsonObject *root, const char *array, guint i)
{
    return json_array_get_object_element(rc::json::arrayMember(root, array), i);
}

guint count(JsonObject *root, const char *array)
{
    return json_array_get_length(rc::json::arrayMember(root, array));
}

// A run that crashed: p1 recorded p1.mkv (unfinished), p2 left, one disk-full gap left open.
Manifest crashedRun(const std::string &path)
{
    Manifest m(path, "standup", t0());
    m.participantJoined("p1", std::string("alice"), t0() + seconds(1));
    m.participantJoined("p2", std::nullopt, t0() + seconds(2));
    m.fileStarted("p1", "p1.mkv", "record-mkv", "VP8", "OPUS", 1.5);
    m.fileStarted("p2", "p2.mkv", "record-mkv", "VP8", "OPUS", 2.5);
    m.fileFinished("p2.mkv", 5.0, 1000);
    m.participantLeft("p2", t0() + milliseconds(7500));
    m.gapStarted("p1", "record-mkv-1", Manifest::GapCause::DiskFull, 8.0);
    return m;
}

} // namespace

TEST_CASE("a manifest read back is the document that was written", "[manifest][resume]")
{
    rc::test::TempDir dir;
    Manifest m = crashedRun(dir / "manifest.json");
    m.setPreviousSession("20261124T031500Z");
    const std::string text = m.toJson();

    Manifest back(dir / "other.json", "", {});
    std::string error;
    REQUIRE(back.load(text, error));
    CHECK(back.toJson() == text);
    CHECK(back.room() == "standup");
    CHECK(back.sessionStart() == t0());
    CHECK_FALSE(back.ended());
    CHECK(back.lastKnownOffset() == Approx(8.0));
    // It keeps its own path: writing goes to other.json.
    CHECK(back.path() == dir / "other.json");
}

TEST_CASE(
    "continuing after a crash closes presences at the crash and marks gaps", "[manifest][resume]")
{
    rc::test::TempDir dir;
    const std::string text = crashedRun(dir / "old.json").toJson();
    Manifest m(dir / "manifest.json", "standup", t0());
    std::string error;
    REQUIRE(m.load(text, error));
    m.continueAfterRestart(20.0);
    // p1 comes back: a new presence, a new part, a gateway-restart gap from the crash to it.
    m.participantJoined("p1", std::string("alice"), t0() + seconds(30));
    m.fileStarted("p1", "p1-2.mkv", "record-mkv", "VP8", "OPUS", 31.25);
    REQUIRE(m.lastError().empty());

    std::string parseError;
    auto node = rc::json::parse(rc::test::readFile(dir / "manifest.json"), parseError);
    REQUIRE(node);
    JsonObject *root = json_node_get_object(node.get());
    REQUIRE(count(root, "participants") == 3);
    CHECK(rc::json::numberMember(entry(root, "participants", 0), "left") == Approx(20.0));
    CHECK(rc::json::numberMember(entry(root, "participants", 1), "left") == Approx(7.5));
    CHECK(rc::json::isNullMember(entry(root, "participants", 2), "left"));
    REQUIRE(count(root, "files") == 3);
    CHECK(rc::json::boolMember(entry(root, "files", 0), "interrupted") == true);
    CHECK(rc::json::boolMember(entry(root, "files", 0), "finished") == false);
    CHECK(rc::json::boolMember(entry(root, "files", 1), "interrupted") == false);
    CHECK(rc::json::stringMember(entry(root, "files", 2), "path") == "p1-2.mkv");
    REQUIRE(count(root, "gaps") == 2);
    // The open disk-full gap ends at the crash; the restart gap runs on to the new part.
    CHECK(rc::json::numberMember(entry(root, "gaps", 0), "end") == Approx(20.0));
    JsonObject *restart = entry(root, "gaps", 1);
    CHECK(rc::json::stringMember(restart, "cause") == "gateway-restart");
    CHECK(rc::json::stringMember(restart, "participant") == "p1");
    CHECK(rc::json::isNullMember(restart, "output"));
    CHECK(rc::json::numberMember(restart, "start") == Approx(20.0));
    CHECK(rc::json::numberMember(restart, "end") == Approx(31.25));
    // p2 had left before the crash: no restart gap when it comes back.
    m.fileStarted("p2", "p2-2.mkv", "record-mkv", "VP8", "OPUS", 40);
    node = rc::json::parse(m.toJson(), parseError);
    CHECK(count(json_node_get_object(node.get()), "gaps") == 2);
}

TEST_CASE("a corrupt or hostile manifest is refused and changes nothing", "[manifest][resume]")
{
    rc::test::TempDir dir;
    const std::string good = crashedRun(dir / "old.json").toJson();
    auto replaced = [&](const std::string &from, const std::string &to) {
        std::string s = good;
        const auto at = s.find(from);
        REQUIRE(at != std::string::npos);
        return s.replace(at, from.size(), to);
    };
    const std::vector<std::string> bad = {
        "",
        "null",
        "[]",
        good.substr(0, good.size() / 2),
        std::string(100, '['),
        replaced("\"roomcast-session-manifest\"", "\"something-else\""),
        replaced("\"version\" : 1", "\"version\" : 2"),
        replaced("\"session_start\" : \"2026-11-24T04:15:00.000Z\"", "\"session_start\" : 5"),
        replaced("2026-11-24T04:15:00.000Z", "2026-13-24T04:15:00.000Z"),
        replaced("\"session_end\" : null", "\"session_end\" : \"soon\""),
        replaced("\"participants\" : [", "\"participants\" : {\"a\": ["),
        replaced("\"id\" : \"p1\"", "\"id\" : 7"),
        replaced("\"joined\" : 1.0", "\"joined\" : 1e308"),
        replaced("\"path\" : \"p1.mkv\"", "\"path\" : \"../../etc/passwd\""),
        replaced("\"path\" : \"p1.mkv\"", "\"path\" : \"/etc/passwd\""),
        replaced("\"bytes\" : 1000", "\"bytes\" : -1"),
        replaced("\"cause\" : \"disk-full\"", "\"cause\" : \"gremlins\""),
        replaced("\"start\" : 8.0", "\"start\" : \"8\""),
    };
    for (size_t i = 0; i < bad.size(); ++i) {
        INFO("case " << i);
        Manifest m(dir / "manifest.json", "mine", t0() + seconds(5));
        const std::string before = m.toJson();
        std::string error;
        CHECK_FALSE(m.load(bad[i], error));
        CHECK_FALSE(error.empty());
        CHECK(m.toJson() == before);
    }
}

TEST_CASE(
    "the resume decision: unfinished and recent continues, else a linked new session", "[resume]")
{
    const auto now = t0() + hours(1);
    const milliseconds window = minutes(10);
    PastSession past { "20261124T041500Z", true, false, now - minutes(9) };
    CHECK(decideResume(past, now, window).continues);
    CHECK(decideResume(past, now, window).previousSession.empty());

    past.lastKnown = now - minutes(11);
    auto d = decideResume(past, now, window);
    CHECK_FALSE(d.continues);
    CHECK(d.previousSession == "20261124T041500Z");

    past.lastKnown = now - seconds(1);
    past.ended = true; // closed cleanly: never continued
    CHECK_FALSE(decideResume(past, now, window).continues);
    past.ended = false;
    past.readable = false; // corrupt manifest
    d = decideResume(past, now, window);
    CHECK_FALSE(d.continues);
    CHECK(d.previousSession == "20261124T041500Z");
    past.readable = true;
    CHECK_FALSE(decideResume(past, now, milliseconds(0)).continues);
    // A clock stepped back: the session looks newer than now, still recent.
    past.lastKnown = now + minutes(2);
    CHECK(decideResume(past, now, window).continues);
    d = decideResume(std::nullopt, now, window);
    CHECK_FALSE(d.continues);
    CHECK(d.previousSession.empty());
}

TEST_CASE(
    "planSession continues the newest unfinished folder and refuses a corrupt one", "[resume]")
{
    rc::test::TempDir dir;
    rc::log::Logger log("test");
    const std::string recordings = dir / "rec";
    RecordingLayout older(recordings, "standup", t0() - hours(2));
    RecordingLayout newest(recordings, "standup", t0());
    std::string error;
    REQUIRE(older.ensureSessionDir(error));
    REQUIRE(newest.ensureSessionDir(error));
    Manifest m = crashedRun(newest.manifestPath());
    REQUIRE(m.lastError().empty());
    // p1.mkv kept growing after the manifest's last write: its mtime is the crash.
    std::ofstream(newest.sessionDir() + "/p1.mkv") << "data";

    const auto now = system_clock::now();
    SessionPlan plan = planSession(recordings, "standup", now, minutes(10), log);
    // The files were written just now, so the session is recent whatever t0 says.
    REQUIRE(plan.continues);
    CHECK(plan.sessionStart == t0());
    CHECK(plan.lastKnownOffset == Approx(duration<double>(now - t0()).count()).margin(5));
    Manifest loaded(newest.manifestPath(), "standup", t0());
    CHECK(loaded.load(plan.manifestText, error));

    // Window 0: a new session linked to the newest folder.
    plan = planSession(recordings, "standup", now, milliseconds(0), log);
    CHECK_FALSE(plan.continues);
    CHECK(plan.previousSession == "20261124T041500Z");

    // Hostile content: never continued, never a crash.
    std::ofstream(newest.manifestPath(), std::ios::trunc) << "{\"format\": [[[[";
    plan = planSession(recordings, "standup", now, minutes(10), log);
    CHECK_FALSE(plan.continues);
    CHECK(plan.previousSession == "20261124T041500Z");
    // Another room's folder, or none: nothing to continue.
    plan = planSession(recordings, "other", now, minutes(10), log);
    CHECK_FALSE(plan.continues);
    CHECK(plan.previousSession.empty());
}

TEST_CASE("a failed manifest write is owed and the next one has every entry", "[manifest]")
{
    rc::test::TempDir dir;
    const std::string folder = dir / "gone";
    std::filesystem::create_directory(folder);
    Manifest m(folder + "/manifest.json", "r", t0());
    int failures = 0;
    m.setWriteFailedHandler([&] { ++failures; });
    m.participantJoined("p1", std::nullopt, t0());
    CHECK_FALSE(m.dirty());
    // The folder vanishes (as good as a full disk for write()): entries pile up in memory.
    std::filesystem::remove_all(folder);
    m.fileStarted("p1", "p1.mkv", "record-mkv", "VP8", "OPUS", 0.5);
    m.fileDiscarded("p1.mkv");
    m.fileStarted("p1", "p1-2.mkv", "record-mkv", "VP8", "OPUS", 1.5);
    CHECK(m.dirty());
    CHECK(failures == 3);
    CHECK_FALSE(m.retryWrite());
    std::filesystem::create_directory(folder);
    CHECK(m.retryWrite());
    CHECK_FALSE(m.dirty());
    const std::string text = rc::test::readFile(folder + "/manifest.json");
    CHECK(text.find("\"p1-2.mkv\"") != std::string::npos);
    CHECK(text.find("\"p1.mkv\"") == std::string::npos);
    CHECK(text.find("\"p1\"") != std::string::npos);
}
