// The control API over real HTTP on 127.0.0.1 with a fake ControlBackend: every endpoint, every
// error status, hostile bodies.
#include "common/base/exit_codes.h"
#include "common/base/json.h"
#include "common/base/startup_error.h"
#include "exposition_parser.h"
#include "gateway/ops/control_api.h"
#include "gateway/ops/gateway_metrics.h"
#include "ops_test_support.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace rc;
using namespace rc::ops;
using namespace rc::test;

namespace {

const std::string kToken = "s3cret-token_value.42";

GPtr<JsonNode> emptyArray()
{
    auto node = adopt(json_node_new(JSON_NODE_ARRAY));
    json_node_take_array(node.get(), json_array_new());
    return node;
}

struct FakeOutput
{
    std::string id, pipeline, url, state = "running";
};

class FakeBackend : public ControlBackend
{
public:
    std::map<std::string, std::vector<FakeOutput>> rooms { { "lobby", {} }, { "studio", {} } };
    bool unavailable = false;
    bool deferStops = false;
    std::vector<BackendReply> deferred;
    int starts = 0, stops = 0, leaves = 0;
    int nextId = 1;

    GPtr<JsonNode> health() override
    {
        return json::ObjectBuilder().set("signaling", "connected").set("status", "lies").build();
    }

    BackendResult listRooms() override
    {
        if (unavailable)
            return BackendResult::failure(ApiError::unavailable("not connected"));
        auto array = adopt(json_array_new());
        for (const auto &[room, outputs] : rooms) {
            auto outs = adopt(json_array_new());
            for (const auto &o : outputs)
                json_array_add_element(outs.get(), outputNode(o).release());
            auto node = adopt(json_node_new(JSON_NODE_ARRAY));
            json_node_take_array(node.get(), outs.release());
            json_array_add_element(array.get(),
                json::ObjectBuilder()
                    .set("room", room)
                    .set("participants", emptyArray())
                    .set("outputs", std::move(node))
                    .build()
                    .release());
        }
        auto node = adopt(json_node_new(JSON_NODE_ARRAY));
        json_node_take_array(node.get(), array.release());
        return BackendResult::success(std::move(node));
    }

    std::optional<std::vector<ParamSpec>> outputParams(const std::string &pipeline) override
    {
        if (pipeline == "rtmp")
            return std::vector<ParamSpec> { { "rtmp_url", ParamKind::url, { "rtmp", "rtmps" },
                true } };
        if (pipeline == "record-mkv")
            return std::vector<ParamSpec> {};
        return std::nullopt;
    }

    void startOutput(const std::string &room, const std::string &pipeline,
        const ParamValues &params, BackendReply reply) override
    {
        ++starts;
        if (unavailable)
            return reply(BackendResult::failure(ApiError::unavailable("signaling is down")));
        auto it = rooms.find(room);
        if (it == rooms.end())
            return reply(
                BackendResult::failure(ApiError::notFound("no such room", "room_not_found")));
        const std::string url = params.count("rtmp_url") ? params.at("rtmp_url") : "";
        for (const auto &o : it->second)
            if (o.pipeline == pipeline && o.url == url)
                return reply(BackendResult::failure(ApiError::conflict("already running")));
        FakeOutput o { "out-" + std::to_string(nextId++), pipeline, url };
        it->second.push_back(o);
        reply(BackendResult::success(outputNode(o)));
    }

    void stopOutput(const std::string &room, const std::string &id, BackendReply reply) override
    {
        ++stops;
        auto it = rooms.find(room);
        if (it == rooms.end())
            return reply(
                BackendResult::failure(ApiError::notFound("no such room", "room_not_found")));
        auto o = std::find_if(
            it->second.begin(), it->second.end(), [&](auto &x) { return x.id == id; });
        if (o == it->second.end())
            return reply(
                BackendResult::failure(ApiError::notFound("no such output", "output_not_found")));
        FakeOutput finished = *o;
        finished.state = "finished";
        it->second.erase(o);
        BackendResult result = BackendResult::success(outputNode(finished));
        if (deferStops) {
            auto shared = std::make_shared<BackendResult>(std::move(result));
            deferred.push_back([reply, shared](BackendResult) { reply(std::move(*shared)); });
            return;
        }
        reply(std::move(result));
    }

    void leaveRoom(const std::string &room, BackendReply reply) override
    {
        ++leaves;
        auto it = rooms.find(room);
        if (it == rooms.end())
            return reply(
                BackendResult::failure(ApiError::notFound("no such room", "room_not_found")));
        rooms.erase(it);
        reply(BackendResult::success(
            json::ObjectBuilder().set("room", room).set("state", "left").build()));
    }

    static GPtr<JsonNode> outputNode(const FakeOutput &o)
    {
        return json::ObjectBuilder()
            .set("id", o.id)
            .set("template", o.pipeline)
            .set("state", o.state)
            .set("url", redactUrl(o.url))
            .build();
    }
};

struct Fixture
{
    Loop loop;
    MetricsRegistry metrics;
    GatewayMetrics gatewayMetrics { metrics };
    FakeBackend backend;
    std::unique_ptr<ControlApi> api;
    HttpClient client { loop };
    std::string base;

    explicit Fixture(std::optional<std::string> token = kToken,
        std::chrono::milliseconds replyTimeout = std::chrono::seconds(30))
    {
        ControlApiConfig config;
        config.port = 0;
        config.token = std::move(token);
        config.replyTimeout = replyTimeout;
        api = std::make_unique<ControlApi>(config, loop.context(), backend, metrics);
        const uint16_t port = api->start();
        base = "http://127.0.0.1:" + std::to_string(port);
    }

    HttpResponse call(const std::string &method, const std::string &path,
        const std::string &body = {}, std::vector<std::pair<std::string, std::string>> headers = {})
    {
        headers.emplace_back("Authorization", "Bearer " + kToken);
        return client.request(method, base + path, body, headers);
    }
};

std::string errorCode(const HttpResponse &r)
{
    auto node = r.json();
    if (!node || !JSON_NODE_HOLDS_OBJECT(node.get()))
        return "<not a JSON object: " + r.body + ">";
    JsonObject *obj = json_node_get_object(node.get());
    if (!json::stringMember(obj, "message"))
        return "<no message>";
    return json::stringMember(obj, "error").value_or("<no error>");
}

std::string startBody(const std::string &url)
{
    return R"({"pipeline": "rtmp", "params": {"rtmp_url": ")" + url + "\"}}";
}

} // namespace

TEST_CASE("every endpoint answers with JSON", "[api]")
{
    Fixture f;

    auto r = f.call("GET", "/healthz");
    CHECK(r.status == 200);
    auto node = r.json();
    REQUIRE(node);
    CHECK(json::stringMember(json_node_get_object(node.get()), "status") == "ok");
    CHECK(json::stringMember(json_node_get_object(node.get()), "signaling") == "connected");
    CHECK(r.header("content-type").rfind("application/json", 0) == 0);

    r = f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://127.0.0.1:1935/live/key1"));
    REQUIRE(r.status == 201);
    node = r.json();
    REQUIRE(node);
    const std::string id = *json::stringMember(json_node_get_object(node.get()), "id");
    CHECK(r.header("location") == "/v1/rooms/lobby/outputs/" + id);
    CHECK(json::stringMember(json_node_get_object(node.get()), "url")
        == "rtmp://127.0.0.1:1935/live/***");

    r = f.call("GET", "/v1/rooms");
    CHECK(r.status == 200);
    CHECK(r.body.find("\"rooms\":[") != std::string::npos);
    CHECK(r.body.find(id) != std::string::npos);
    CHECK(r.body.find("key1") == std::string::npos); // the stream key never shows

    r = f.call("POST", "/v1/rooms/lobby/outputs", R"({"pipeline": "record-mkv"})");
    CHECK(r.status == 201);

    r = f.call("DELETE", "/v1/rooms/lobby/outputs/" + id);
    CHECK(r.status == 200);
    node = r.json();
    REQUIRE(node);
    CHECK(json::stringMember(json_node_get_object(node.get()), "state") == "finished");

    r = f.call("DELETE", "/v1/rooms/studio");
    CHECK(r.status == 200);
    CHECK(f.backend.rooms.count("studio") == 0);

    r = f.call("GET", "/metrics");
    CHECK(r.status == 200);
    CHECK(r.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
    std::string error;
    auto exposition = parseExposition(r.body, error);
    INFO(r.body);
    INFO(error);
    REQUIRE(exposition);
    CHECK(exposition->value("roomcast_api_requests_total", { { "code", "201" } }) == 2.0);
    CHECK(exposition->value("roomcast_rooms") == 0.0);
    CHECK(*exposition->value("process_resident_memory_bytes") > 0);
    CHECK(exposition->value("roomcast_api_requests_total", { { "code", "200" } }) >= 4.0);

    CHECK(f.call("HEAD", "/healthz").status == 200);
}

TEST_CASE("401 without the right bearer token, before anything else", "[api][auth]")
{
    Fixture f;
    const std::vector<std::vector<std::pair<std::string, std::string>>> bad = {
        {},
        { { "Authorization", "Bearer wrong" } },
        { { "Authorization", "Bearer " + kToken + "x" } },
        { { "Authorization", "Bearer " + kToken.substr(0, kToken.size() - 1) } },
        { { "Authorization", "Basic " + kToken } },
        { { "Authorization", kToken } },
        { { "Authorization", "Bearer" } },
    };
    for (const auto &headers : bad) {
        for (const char *path : { "/healthz", "/metrics", "/v1/rooms", "/no/such/route" }) {
            auto r = f.client.request("GET", f.base + path, {}, headers);
            INFO(path << " " << (headers.empty() ? "(none)" : headers[0].second));
            CHECK(r.status == 401);
            CHECK(errorCode(r) == "unauthorized");
            CHECK(r.header("www-authenticate").rfind("Bearer", 0) == 0);
        }
    }
    // An unauthenticated POST never reaches the backend, whatever its body.
    auto r
        = f.client.request("POST", f.base + "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/k"));
    CHECK(r.status == 401);
    CHECK(f.backend.starts == 0);
    // A case-insensitive scheme is still fine.
    r = f.client.request(
        "GET", f.base + "/healthz", {}, { { "Authorization", "bearer " + kToken } });
    CHECK(r.status == 200);
}

TEST_CASE("404 for unknown routes, rooms and outputs; 405 for wrong methods", "[api]")
{
    Fixture f;
    for (const char *path :
        { "/", "/v1", "/v2/rooms", "/v1/rooms/lobby/outputs/x/y", "/v1/rooms/lobby/inputs",
            "/v1/rooms/", "/healthz/x", "/v1/rooms/%2e%2e", "/v1/rooms/a%20b/outputs" }) {
        auto r = f.call("GET", path);
        INFO(path);
        CHECK(r.status == 404);
    }
    auto r = f.call("POST", "/v1/rooms/nowhere/outputs", startBody("rtmp://h/a/k"));
    CHECK(r.status == 404);
    CHECK(errorCode(r) == "room_not_found");
    r = f.call("DELETE", "/v1/rooms/lobby/outputs/nope");
    CHECK(r.status == 404);
    CHECK(errorCode(r) == "output_not_found");
    r = f.call("DELETE", "/v1/rooms/nowhere");
    CHECK(r.status == 404);
    r = f.call("DELETE", "/v1/rooms/" + std::string(65, 'a'));
    CHECK(r.status == 404);

    r = f.call("POST", "/v1/rooms");
    CHECK(r.status == 405);
    CHECK(r.header("allow").find("GET") != std::string::npos);
    CHECK(f.call("GET", "/v1/rooms/lobby/outputs").status == 405);
    CHECK(f.call("PUT", "/v1/rooms/lobby").status == 405);
    CHECK(f.call("DELETE", "/metrics").status == 405);
}

TEST_CASE("400 for bad JSON, wrong types, deep nesting and undeclared params", "[api][hostile]")
{
    Fixture f;
    struct Case
    {
        std::string body;
        std::string code;
    };
    std::string deep = R"({"pipeline": "rtmp", "params": {"rtmp_url": )";
    for (int i = 0; i < 200; ++i)
        deep += "[";
    const Case cases[] = {
        { "", "invalid_json" },
        { "{", "invalid_json" },
        { "{\"pipeline\": \"rtmp\",}", "invalid_json" },
        { "\xff\xfe{}", "invalid_json" },
        { deep, "invalid_json" },
        { std::string(100000, '[').substr(0, 60000), "invalid_json" },
        { "[]", "invalid_body" },
        { "\"rtmp\"", "invalid_body" },
        { "null", "invalid_body" },
        { R"({"pipeline": 5})", "invalid_body" },
        { R"({"pipeline": null})", "invalid_body" },
        { R"({"pipeline": ["rtmp"]})", "invalid_body" },
        { R"({"params": {}})", "invalid_body" },
        { R"({"pipeline": "rtmp", "params": "rtmp://h/a"})", "invalid_body" },
        { R"({"pipeline": "rtmp", "params": [1]})", "invalid_body" },
        { R"({"pipeline": "rtmp", "params": {"rtmp_url": "rtmp://h/a/k"}, "extra": 1})",
            "invalid_body" },
        { R"({"pipeline": "no-such-template"})", "unknown_pipeline" },
        { R"({"pipeline": "../../etc/passwd"})", "unknown_pipeline" },
        { R"({"pipeline": "rtmp"})", "invalid_param" },
        { R"({"pipeline": "rtmp", "params": {"rtmp_url": 5}})", "invalid_param" },
        { R"({"pipeline": "rtmp", "params": {"rtmp_url": "rtmp://h/a/k", "location": "/tmp/x"}})",
            "invalid_param" },
        { R"({"pipeline": "record-mkv", "params": {"location": "/etc/passwd"}})", "invalid_param" },
        { startBody("file:///etc/passwd"), "invalid_param" },
        { startBody("http://example.com/live/k"), "invalid_param" },
        { startBody("rtmp://host/live/../../../../etc/passwd"), "invalid_param" },
        { startBody("rtmp://host/live/%2e%2e/%2e%2e/etc"), "invalid_param" },
        { startBody("rtmp://host/live/x ! filesink location=/tmp/pwn"), "invalid_param" },
    };
    for (const auto &c : cases) {
        INFO(c.body.substr(0, 120));
        auto r = f.call("POST", "/v1/rooms/lobby/outputs", c.body);
        CHECK(r.status == 400);
        CHECK(errorCode(r) == c.code);
    }
    CHECK(f.backend.starts == 0);

    auto r = f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/k"),
        { { "Content-Type", "application/x-www-form-urlencoded" } });
    CHECK(r.status == 415);
    CHECK(f.backend.starts == 0);
}

TEST_CASE("409 conflict and 503 unavailable come from the backend", "[api]")
{
    Fixture f;
    CHECK(f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/k")).status == 201);
    auto r = f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/k"));
    CHECK(r.status == 409);
    CHECK(errorCode(r) == "conflict");

    f.backend.unavailable = true;
    r = f.call("GET", "/v1/rooms");
    CHECK(r.status == 503);
    CHECK(errorCode(r) == "unavailable");
    r = f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/other"));
    CHECK(r.status == 503);
    CHECK(f.call("GET", "/healthz").status == 200); // liveness does not depend on the backend

    f.backend.unavailable = false;
    f.api->refuseChanges(true);
    r = f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/third"));
    CHECK(r.status == 503);
    CHECK(errorCode(r) == "shutting_down");
    CHECK(f.call("DELETE", "/v1/rooms/lobby").status == 503);
    CHECK(f.call("GET", "/v1/rooms").status == 200);
}

TEST_CASE("413 for bodies over 64 KiB, without reading them", "[api][hostile]")
{
    Fixture f;
    const uint16_t port = f.api->port();
    const std::string auth = "Authorization: Bearer " + kToken + "\r\n";

    // A body claimed at 64 KiB + 1 with "Expect: 100-continue" (curl sends
    // it for large bodies): refused from the headers alone, body never sent.
    const auto t0 = std::chrono::steady_clock::now();
    std::string response = onThread(f.loop, [&] {
        return rawExchange(port,
            "POST /v1/rooms/lobby/outputs HTTP/1.1\r\nHost: x\r\n" + auth
                + "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                  "Content-Length: 1073741824\r\n\r\n",
            3s);
    });
    CHECK(rawStatus(response) == 413);
    CHECK(response.find("body_too_large") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);

    // Without Expect the body is read (libsoup insists) but not kept: 413.
    response = onThread(f.loop, [&] {
        return rawExchange(port,
            "POST /v1/rooms/lobby/outputs HTTP/1.1\r\nHost: x\r\n" + auth
                + "Content-Length: 2097152\r\n\r\n" + std::string(2097152, '['),
            5s);
    });
    CHECK(rawStatus(response) == 413);
    CHECK(response.find("Connection: close") != std::string::npos);

    // A chunked body that grows past the limit: read, never kept, then 413.
    std::string chunked = "POST /v1/rooms/lobby/outputs HTTP/1.1\r\nHost: x\r\n" + auth
        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    const std::string piece(16384, ' ');
    for (int i = 0; i < 8; ++i)
        chunked += "4000\r\n" + piece + "\r\n";
    chunked += "0\r\n\r\n";
    response = onThread(f.loop, [&] { return rawExchange(port, chunked, 5s); });
    CHECK(rawStatus(response) == 413);

    // Exactly 64 KiB is accepted (and then judged as JSON).
    std::string body = startBody("rtmp://h/a/k");
    body += std::string(65536 - body.size(), ' ');
    auto r = f.call("POST", "/v1/rooms/lobby/outputs", body);
    CHECK(r.status == 201);
    body += " ";
    r = f.call("POST", "/v1/rooms/lobby/outputs", body);
    CHECK(r.status == 413);
    CHECK(f.backend.starts == 1);

    // The server still works afterwards.
    CHECK(f.call("GET", "/healthz").status == 200);
}

TEST_CASE("a malformed body never affects running outputs", "[api][hostile]")
{
    Fixture f;
    auto r = f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/k"));
    REQUIRE(r.status == 201);
    for (const char *body :
        { "{", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", R"({"pipeline": {"$ne": 1}})",
            R"({"pipeline": "rtmp", "params": {"rtmp_url": "file:///dev/zero"}})" })
        CHECK(f.call("POST", "/v1/rooms/lobby/outputs", body).status == 400);
    CHECK(f.call("DELETE", "/v1/rooms/lobby/outputs/..").status == 404);
    const guint nul = f.call("DELETE", "/v1/rooms/lobby/outputs/x%00y").status;
    CHECK((nul == 400 || nul == 404)); // libsoup itself may refuse the encoded NUL
    CHECK(f.backend.stops == 0);
    CHECK(f.backend.leaves == 0);
    REQUIRE(f.backend.rooms.at("lobby").size() == 1);
    CHECK(f.backend.rooms.at("lobby")[0].state == "running");
}

TEST_CASE("a slow stop pauses only its own request", "[api][async]")
{
    Fixture f(kToken, 500ms);
    auto r = f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/k"));
    REQUIRE(r.status == 201);
    const std::string id = *json::stringMember(json_node_get_object(r.json().get()), "id");
    f.backend.deferStops = true;

    // The DELETE waits for the backend; meanwhile the API answers others.
    const auto deleteUrl = f.base + "/v1/rooms/lobby/outputs/" + id;
    const std::string auth = "Bearer " + kToken;
    HttpResponse deleted;
    std::atomic<bool> deleteDone { false };
    std::thread client([&] {
        Loop threadLoop;
        HttpClient c(threadLoop);
        deleted = c.request("DELETE", deleteUrl, {}, { { "Authorization", auth } });
        deleteDone = true;
    });
    REQUIRE(f.loop.until([&] { return f.backend.deferred.size() == 1; }));
    CHECK(f.api->pendingRequests() == 1);
    CHECK(f.call("GET", "/healthz").status == 200);
    CHECK_FALSE(deleteDone);
    // The finalize finishes: reply from another thread (the API re-posts it).
    std::thread([&] { f.backend.deferred[0](BackendResult()); }).join();
    f.loop.until([&] { return deleteDone.load(); });
    client.join();
    CHECK(deleted.status == 200);
    CHECK(deleted.body.find("\"state\":\"finished\"") != std::string::npos);
    CHECK(f.api->pendingRequests() == 0);

    // A backend that never answers: 503 timeout after replyTimeout.
    f.backend.deferred.clear();
    r = f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/k2"));
    REQUIRE(r.status == 201);
    const std::string id2 = *json::stringMember(json_node_get_object(r.json().get()), "id");
    const auto t0 = std::chrono::steady_clock::now();
    r = f.call("DELETE", "/v1/rooms/lobby/outputs/" + id2);
    CHECK(r.status == 503);
    CHECK(errorCode(r) == "timeout");
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
    // The late reply is dropped harmlessly.
    REQUIRE(f.backend.deferred.size() == 1);
    f.backend.deferred[0](BackendResult());
    f.loop.runFor(50ms);

    // A client that leaves while waiting: the late answer goes nowhere, harmlessly.
    f.backend.deferred.clear();
    r = f.call("POST", "/v1/rooms/lobby/outputs", startBody("rtmp://h/a/k3"));
    const std::string id3 = *json::stringMember(json_node_get_object(r.json().get()), "id");
    const uint16_t port = f.api->port();
    onThread(f.loop, [&] {
        return rawExchange(port,
            "DELETE /v1/rooms/lobby/outputs/" + id3 + " HTTP/1.1\r\nHost: x\r\n"
                + "Authorization: Bearer " + kToken + "\r\n\r\n",
            0ms, true);
    });
    REQUIRE(f.loop.until([&] { return f.backend.deferred.size() == 1; }));
    f.loop.runFor(50ms);
    f.backend.deferred[0](BackendResult());
    CHECK(f.loop.until([&] { return f.api->pendingRequests() == 0; }, 1s));
    f.loop.runFor(50ms);
    CHECK(f.call("GET", "/healthz").status == 200);
}

TEST_CASE("without a token the API stays on loopback", "[api][auth]")
{
    Loop loop;
    MetricsRegistry metrics;
    FakeBackend backend;
    for (const char *host : { "0.0.0.0", "::", "192.0.2.10" }) {
        ControlApiConfig config;
        config.host = host;
        config.port = 0;
        ControlApi api(config, loop.context(), backend, metrics);
        try {
            api.start();
            FAIL("started on " << host << " without a token");
        } catch (const StartupError &e) {
            CHECK(e.exitCode() == exitcode::config);
            CHECK(std::string(e.what()).find("token") != std::string::npos);
        }
    }
    {
        ControlApiConfig config;
        config.host = "not-an-ip";
        ControlApi api(config, loop.context(), backend, metrics);
        CHECK_THROWS_AS(api.start(), StartupError);
    }
    // Loopback without a token: open, with a warning; the token may not be
    // dropped later on a non-loopback address (checked via setToken).
    Fixture open(std::nullopt);
    auto r = open.client.request("GET", open.base + "/v1/rooms");
    CHECK(r.status == 200);
    CHECK(open.api->setToken(std::string("new")));
    CHECK(open.client.request("GET", open.base + "/v1/rooms").status == 401);
    CHECK(open.client
              .request("GET", open.base + "/v1/rooms", {}, { { "Authorization", "Bearer new" } })
              .status
        == 200);
    CHECK_FALSE(open.api->setToken(std::string()));
    CHECK(open.api->setToken(std::nullopt));

    std::string host;
    uint16_t port = 0;
    CHECK(parseListenAddress("127.0.0.1:8081", host, port));
    CHECK((host == "127.0.0.1" && port == 8081));
    CHECK(parseListenAddress("[::1]:0", host, port));
    CHECK(host == "::1");
    CHECK(parseListenAddress("localhost:9", host, port));
    CHECK_FALSE(parseListenAddress("127.0.0.1", host, port));
    CHECK_FALSE(parseListenAddress("127.0.0.1:65536", host, port));
    CHECK_FALSE(parseListenAddress("::1:80", host, port));
    CHECK_FALSE(parseListenAddress("example.com:80", host, port));
    CHECK(isLoopbackHost("127.0.0.1"));
    CHECK(isLoopbackHost("localhost"));
    CHECK(isLoopbackHost("::1"));
    CHECK_FALSE(isLoopbackHost("0.0.0.0"));
    CHECK_FALSE(isLoopbackHost("203.0.113.1"));
}
