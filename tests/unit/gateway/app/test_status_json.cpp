// The JSON the control API and webhooks show for outputs and participants (docs/openapi.yaml).
#include "common/base/json.h"
#include "gateway/app/status_json.h"

#include <catch2/catch.hpp>

using namespace rc::gateway;

namespace {

JsonObject *obj(const rc::GPtr<JsonNode> &node)
{
    REQUIRE(node);
    REQUIRE(JSON_NODE_HOLDS_OBJECT(node.get()));
    return json_node_get_object(node.get());
}

std::chrono::system_clock::time_point at(int64_t ms)
{
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

} // namespace

TEST_CASE("times are RFC 3339 UTC with milliseconds", "[status_json]")
{
    CHECK(isoTime(at(0)) == "1970-01-01T00:00:00.000Z");
    CHECK(isoTime(at(1795502651964)) == "2026-11-24T06:44:11.964Z");
}

TEST_CASE("an output's JSON", "[status_json]")
{
    OutputInfo o;
    o.id = "record-mkv-1";
    o.templateName = "record-mkv";
    o.state = OutputState::finishing;
    o.files = { { "/rec/a/p1.mkv", "p1", 2.5, 1000 } };
    o.bytes = 1000;
    o.startedAt = at(1000);
    o.manifestPath = "/rec/a/manifest.json";
    auto node = outputJson("a", o);
    JsonObject *j = obj(node);
    CHECK(rc::json::stringMember(j, "id") == "record-mkv-1");
    CHECK(rc::json::stringMember(j, "room") == "a");
    CHECK(rc::json::stringMember(j, "template") == "record-mkv");
    CHECK(rc::json::stringMember(j, "scope") == "participant");
    CHECK(rc::json::stringMember(j, "state") == "finalizing"); // the API's name
    CHECK(rc::json::stringMember(j, "file") == "/rec/a/p1.mkv");
    CHECK(rc::json::stringMember(j, "participant") == "p1");
    CHECK(rc::json::intMember(j, "bytes") == 1000);
    CHECK(rc::json::stringMember(j, "started_at") == "1970-01-01T00:00:01.000Z");
    CHECK(rc::json::stringMember(j, "manifest") == "/rec/a/manifest.json");
    CHECK_FALSE(rc::json::hasMember(j, "url"));
    CHECK_FALSE(rc::json::hasMember(j, "reason"));
    JsonArray *files = rc::json::arrayMember(j, "files");
    REQUIRE(files);
    REQUIRE(json_array_get_length(files) == 1);
    JsonObject *f = json_array_get_object_element(files, 0);
    CHECK(rc::json::numberMember(f, "duration_seconds") == Approx(2.5));
    CHECK(rc::json::intMember(f, "bytes") == 1000);

    // Two files: no single "file"; a failure carries its reason; a network
    // output shows its (already redacted) URL.
    o.files.push_back({ "/rec/a/p2.mkv", "p2", 1.0, 10 });
    o.state = OutputState::failed;
    o.failure = "sink error";
    o.url = "rtmp://h/live/***";
    node = outputJson("a", o);
    j = obj(node);
    CHECK_FALSE(rc::json::hasMember(j, "file"));
    CHECK(rc::json::stringMember(j, "state") == "failed");
    CHECK(rc::json::stringMember(j, "reason") == "sink error");
    CHECK(rc::json::stringMember(j, "url") == "rtmp://h/live/***");
    CHECK(isFinalOutput(o));
    o.state = OutputState::retrying;
    CHECK_FALSE(isFinalOutput(o));
    node = outputJson("a", o);
    CHECK(rc::json::stringMember(obj(node), "state") == "retrying");
    o.state = OutputState::finished;
    CHECK(isFinalOutput(o));
}

TEST_CASE("a participant's JSON", "[status_json]")
{
    ParticipantInfo p;
    p.id = "p3";
    p.joinedAt = at(0);
    p.codecs = { "VP8", "OPUS" };
    p.packetsReceived = 10;
    p.packetsLost = 2;
    auto node = participantJson(p);
    JsonObject *j = obj(node);
    CHECK(rc::json::stringMember(j, "id") == "p3");
    CHECK_FALSE(rc::json::hasMember(j, "name"));
    CHECK(rc::json::intMember(j, "packets_lost") == 2);
    CHECK(rc::json::intMember(j, "packets_received") == 10);
    REQUIRE(rc::json::arrayMember(j, "codecs"));
    CHECK(json_array_get_length(rc::json::arrayMember(j, "codecs")) == 2);
    p.name = "Zoë \"the\" <name>";
    node = participantJson(p);
    CHECK(rc::json::stringMember(obj(node), "name") == p.name); // JSON only, as given
}

TEST_CASE("a participant's connection state and why", "[status_json]")
{
    ParticipantInfo p;
    p.id = "p4";
    p.joinedAt = at(0);
    auto node = participantJson(p);
    JsonObject *connection = rc::json::objectMember(obj(node), "connection");
    REQUIRE(connection);
    CHECK(rc::json::stringMember(connection, "state") == "connecting");
    CHECK_FALSE(rc::json::hasMember(connection, "reason")); // nothing wrong: no reason
    p.connection = "retrying";
    p.connectionReason = "ICE failed: the TURN server 127.0.0.1:3478 gave no relay candidate";
    node = participantJson(p);
    connection = rc::json::objectMember(obj(node), "connection");
    REQUIRE(connection);
    CHECK(rc::json::stringMember(connection, "state") == "retrying");
    CHECK(rc::json::stringMember(connection, "reason") == p.connectionReason);
}
