// The control API's CORS answers and its pause/resume routes, over real HTTP on 127.0.0.1 with a
// small fake ControlBackend.
#include "common/base/json.h"
#include "gateway/ops/control_api.h"
#include "ops_test_support.h"

#include <catch2/catch.hpp>

#include <set>

using namespace rc;
using namespace rc::ops;
using namespace rc::test;

namespace {

const std::string kToken = "cors-token-0123";
const std::string kAllowed = "http://127.0.0.1:9999";

// One room "lobby" with one output "record-mkv-1", pausable; "rtmp-passthrough-1" cannot pause.
class PauseBackend : public ControlBackend
{
public:
    std::set<std::string> paused;
    int calls = 0;

    GPtr<JsonNode> health() override { return json::ObjectBuilder().build(); }
    BackendResult listRooms() override
    {
        auto node = adopt(json_node_new(JSON_NODE_ARRAY));
        json_node_take_array(node.get(), json_array_new());
        return BackendResult::success(std::move(node));
    }
    std::optional<std::vector<ParamSpec>> outputParams(const std::string &) override
    {
        return std::nullopt;
    }
    void startOutput(
        const std::string &, const std::string &, const ParamValues &, BackendReply reply) override
    {
        reply(BackendResult::failure(ApiError::internal("not here")));
    }
    void stopOutput(const std::string &, const std::string &, BackendReply reply) override
    {
        reply(BackendResult::failure(ApiError::internal("not here")));
    }
    void leaveRoom(const std::string &, BackendReply reply) override
    {
        reply(BackendResult::failure(ApiError::internal("not here")));
    }
    BackendResult pauseOutput(const std::string &room, const std::string &id, bool pause) override
    {
        ++calls;
        if (room != "lobby")
            return BackendResult::failure(ApiError::notFound("no room", "room_not_found"));
        if (id == "rtmp-passthrough-1")
            return BackendResult::failure(ApiError::conflict("cannot", "cannot_pause"));
        if (id != "record-mkv-1")
            return BackendResult::failure(ApiError::notFound("no output", "output_not_found"));
        if (pause == (paused.count(id) > 0))
            return BackendResult::failure(pause ? ApiError::conflict("paused", "already_paused")
                                                : ApiError::conflict("not", "not_paused"));
        pause ? (void)paused.insert(id) : (void)paused.erase(id);
        return BackendResult::success(
            json::ObjectBuilder().set("id", id).set("paused", pause).build());
    }
};

struct Fixture
{
    Loop loop;
    MetricsRegistry metrics;
    PauseBackend backend;
    std::unique_ptr<ControlApi> api;
    HttpClient client { loop };
    std::string base;

    explicit Fixture(std::vector<std::string> origins)
    {
        ControlApiConfig config;
        config.port = 0;
        config.token = kToken;
        config.corsOrigins = std::move(origins);
        api = std::make_unique<ControlApi>(config, loop.context(), backend, metrics);
        base = "http://127.0.0.1:" + std::to_string(api->start());
    }
    HttpResponse call(const std::string &method, const std::string &path,
        std::vector<std::pair<std::string, std::string>> headers = {}, bool token = true)
    {
        if (token)
            headers.emplace_back("Authorization", "Bearer " + kToken);
        return client.request(method, base + path, {}, headers);
    }
};

std::string errorCode(const HttpResponse &r)
{
    auto node = r.json();
    if (!node || !JSON_NODE_HOLDS_OBJECT(node.get()))
        return "<not JSON: " + r.body + ">";
    return json::stringMember(json_node_get_object(node.get()), "error").value_or("<none>");
}

const std::vector<std::pair<std::string, std::string>> kPreflight = {
    { "Origin", kAllowed },
    { "Access-Control-Request-Method", "POST" },
    { "Access-Control-Request-Headers", "authorization, content-type" },
};

} // namespace

TEST_CASE("a preflight from an allowed origin needs no token and gets every CORS header", "[cors]")
{
    Fixture f({ kAllowed });
    // Any path, routes added later (/whep/...) included: CORS is by listener, not by route.
    for (const char *path : { "/v1/rooms/lobby/outputs", "/whep/lobby", "/nowhere" }) {
        auto r = f.call("OPTIONS", path, kPreflight, false);
        INFO(path);
        CHECK(r.status == 204);
        CHECK(r.header("access-control-allow-origin") == kAllowed);
        CHECK(r.header("access-control-allow-methods").find("POST") != std::string::npos);
        CHECK(r.header("access-control-allow-methods").find("DELETE") != std::string::npos);
        CHECK(r.header("access-control-allow-headers").find("Authorization") != std::string::npos);
        CHECK(r.header("access-control-allow-headers").find("Content-Type") != std::string::npos);
        CHECK(r.header("access-control-expose-headers") == "Location");
        CHECK(!r.header("access-control-max-age").empty());
        CHECK(r.header("vary").find("Origin") != std::string::npos);
    }
    CHECK(f.backend.calls == 0); // a preflight reaches no backend
}

TEST_CASE("a preflight from another origin grants nothing", "[cors]")
{
    Fixture f({ kAllowed });
    auto r = f.call("OPTIONS", "/v1/rooms",
        { { "Origin", "http://127.0.0.1:9998" }, { "Access-Control-Request-Method", "GET" } },
        false);
    CHECK(r.status == 204);
    CHECK(r.header("access-control-allow-origin").empty());
    CHECK(r.header("access-control-allow-headers").empty());
    // A real request from it: answered (the server cannot tell), without CORS headers, so the
    // browser withholds the answer from the page.
    r = f.call("GET", "/v1/rooms", { { "Origin", "http://127.0.0.1:9998" } });
    CHECK(r.status == 200);
    CHECK(r.header("access-control-allow-origin").empty());
}

TEST_CASE(
    "answers to an allowed origin carry Allow-Origin and Expose-Headers, errors too", "[cors]")
{
    Fixture f({ kAllowed });
    auto r = f.call("GET", "/v1/rooms", { { "Origin", kAllowed } });
    CHECK(r.status == 200);
    CHECK(r.header("access-control-allow-origin") == kAllowed);
    CHECK(r.header("access-control-expose-headers") == "Location");
    // Without the token: 401, readable by the page (it can tell the user what is wrong).
    r = f.call("GET", "/v1/rooms", { { "Origin", kAllowed } }, false);
    CHECK(r.status == 401);
    CHECK(r.header("access-control-allow-origin") == kAllowed);
    // No Origin header (curl, a server): no CORS headers.
    r = f.call("GET", "/v1/rooms");
    CHECK(r.header("access-control-allow-origin").empty());
}

TEST_CASE("without --cors-origin there are no CORS headers at all; * allows any origin", "[cors]")
{
    Fixture none({});
    auto r = none.call("OPTIONS", "/v1/rooms", kPreflight, false);
    CHECK(r.status == 204);
    CHECK(r.header("access-control-allow-origin").empty());
    CHECK(r.header("vary").empty());
    r = none.call("GET", "/v1/rooms", { { "Origin", kAllowed } });
    CHECK(r.header("access-control-allow-origin").empty());

    Fixture any({ "*" });
    r = any.call("OPTIONS", "/v1/rooms", { { "Origin", "https://else.example" } }, false);
    CHECK(r.header("access-control-allow-origin") == "https://else.example");
}

TEST_CASE("pause and resume: 200 with the output, 404 and 409 in the error shape", "[pause]")
{
    Fixture f({});
    const std::string out = "/v1/rooms/lobby/outputs/record-mkv-1";
    auto r = f.call("POST", out + "/resume");
    CHECK(r.status == 409);
    CHECK(errorCode(r) == "not_paused");
    r = f.call("POST", out + "/pause");
    REQUIRE(r.status == 200);
    auto node = r.json();
    REQUIRE(node);
    CHECK(json_object_get_boolean_member(json_node_get_object(node.get()), "paused"));
    r = f.call("POST", out + "/pause");
    CHECK(r.status == 409);
    CHECK(errorCode(r) == "already_paused");
    CHECK(f.call("POST", out + "/resume").status == 200);

    r = f.call("POST", "/v1/rooms/lobby/outputs/rtmp-passthrough-1/pause");
    CHECK(r.status == 409);
    CHECK(errorCode(r) == "cannot_pause");
    r = f.call("POST", "/v1/rooms/lobby/outputs/nosuch-1/pause");
    CHECK(r.status == 404);
    CHECK(errorCode(r) == "output_not_found");
    r = f.call("POST", "/v1/rooms/other/outputs/record-mkv-1/pause");
    CHECK(r.status == 404);
    CHECK(errorCode(r) == "room_not_found");
    r = f.call("POST", "/v1/rooms/lobby/outputs/record-mkv-1/rewind");
    CHECK(r.status == 404);
    r = f.call("GET", out + "/pause");
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST");
    r = f.call("POST", "/v1/rooms/lobby/outputs/bad%20id/pause");
    CHECK(r.status == 404);
    // Without the token nothing pauses.
    const int before = f.backend.calls;
    r = f.call("POST", out + "/pause", {}, false);
    CHECK(r.status == 401);
    CHECK(f.backend.calls == before);
    f.api->refuseChanges(true);
    r = f.call("POST", out + "/pause");
    CHECK(r.status == 503);
}
