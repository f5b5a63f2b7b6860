// The control API's SDP endpoint hook over real HTTP on 127.0.0.1: routing to the handler,
// authorization (API token, viewer JWT, 401/403), 415, 413, 404, 405 and asynchronous answers.
#include "common/base/json.h"
#include "gateway/ops/control_api.h"
#include "ops_test_support.h"

#include <jwt.h>

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace rc;
using namespace rc::ops;
using namespace rc::test;

namespace {

const std::string kToken = "s3cret-token_value.42";
const std::string kSecret = "viewer-secret-for-tests";
const std::string kOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

class NoBackend : public ControlBackend
{
public:
    GPtr<JsonNode> health() override { return json::ObjectBuilder().build(); }
    BackendResult listRooms() override
    {
        return BackendResult::failure(ApiError::unavailable("unused"));
    }
    std::optional<std::vector<ParamSpec>> outputParams(const std::string &) override
    {
        return std::nullopt;
    }
    void startOutput(
        const std::string &, const std::string &, const ParamValues &, BackendReply reply) override
    {
        reply(BackendResult::failure(ApiError::unavailable("unused")));
    }
    void stopOutput(const std::string &, const std::string &, BackendReply reply) override
    {
        reply(BackendResult::failure(ApiError::unavailable("unused")));
    }
    void leaveRoom(const std::string &, BackendReply reply) override
    {
        reply(BackendResult::failure(ApiError::unavailable("unused")));
    }
};

std::string viewerToken(const std::string &room, long expInSeconds)
{
    jwt_t *jwt = nullptr;
    REQUIRE(jwt_new(&jwt) == 0);
    jwt_add_grant(jwt, "room", room.c_str());
    jwt_add_grant_int(jwt, "exp", static_cast<long>(std::time(nullptr)) + expInSeconds);
    jwt_set_alg(jwt, JWT_ALG_HS256, reinterpret_cast<const unsigned char *>(kSecret.data()),
        static_cast<int>(kSecret.size()));
    char *s = jwt_encode_str(jwt);
    std::string out = s ? s : "";
    std::free(s);
    jwt_free(jwt);
    return out;
}

struct Fixture
{
    Loop loop;
    MetricsRegistry metrics;
    NoBackend backend;
    std::unique_ptr<ControlApi> api;
    HttpClient client { loop };
    std::string base;
    std::vector<SdpRequest> seen;
    std::vector<SdpReply> deferred;
    bool defer = false;

    Fixture()
    {
        ControlApiConfig config;
        config.port = 0;
        config.token = kToken;
        config.mediaTokenSecret = kSecret;
        config.maxSdpBytes = 4096;
        api = std::make_unique<ControlApi>(config, loop.context(), backend, metrics);
        api->addSdpEndpoint("whep", [this](const SdpRequest &request, SdpReply reply) {
            seen.push_back(request);
            if (defer) {
                deferred.push_back(std::move(reply));
                return;
            }
            if (request.room == "empty")
                return reply(SdpResponse::failure(
                    ApiError::notFound("room 'empty' is not recording", "room_not_found")));
            SdpResponse r;
            if (request.method == "POST") {
                r.status = SOUP_STATUS_CREATED;
                r.contentType = "application/sdp";
                r.body = "answer to " + std::to_string(request.body.size());
                r.location = "/whep/" + request.room + "/abc";
                r.etag = "\"e1\"";
            } else if (request.method == "PATCH") {
                r = SdpResponse::failure(ApiError::methodNotAllowed("no trickle"));
                r.headers.emplace_back("Allow", "POST, DELETE");
            } else {
                r.status = request.rest == "/abc" ? SOUP_STATUS_OK : SOUP_STATUS_NOT_FOUND;
                if (r.status == SOUP_STATUS_NOT_FOUND)
                    r = SdpResponse::failure(ApiError::notFound("no such session"));
            }
            reply(std::move(r));
        });
        base = "http://127.0.0.1:" + std::to_string(api->start());
    }

    HttpResponse call(const std::string &method, const std::string &path,
        const std::string &body = {}, const std::string &bearer = kToken,
        const std::string &type = "application/sdp")
    {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!bearer.empty())
            headers.emplace_back("Authorization", "Bearer " + bearer);
        if (!type.empty())
            headers.emplace_back("Content-Type", type);
        return client.request(method, base + path, body, headers);
    }
};

std::string errorCode(const HttpResponse &r)
{
    auto node = r.json();
    if (!node || !JSON_NODE_HOLDS_OBJECT(node.get()))
        return "<not a JSON object: " + r.body + ">";
    return json::stringMember(json_node_get_object(node.get()), "error").value_or("<none>");
}

} // namespace

TEST_CASE("an SDP endpoint gets POST, PATCH and DELETE with its room and path", "[api][sdp]")
{
    Fixture f;
    auto r = f.call("POST", "/whep/lobby", kOffer);
    REQUIRE(r.status == 201);
    CHECK(r.header("content-type") == "application/sdp");
    CHECK(r.body == "answer to " + std::to_string(kOffer.size()));
    CHECK(r.header("location") == "/whep/lobby/abc");
    CHECK(r.header("etag") == "\"e1\"");
    REQUIRE(f.seen.size() == 1);
    CHECK(f.seen[0].room == "lobby");
    CHECK(f.seen[0].rest.empty());
    CHECK(f.seen[0].body == kOffer);
    CHECK(f.seen[0].contentType == "application/sdp");
    CHECK(f.seen[0].auth == MediaAuthKind::ApiToken);

    r = f.call(
        "PATCH", "/whep/lobby/abc", "a=candidate:1\r\n", kToken, "application/trickle-ice-sdpfrag");
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST, DELETE");
    CHECK(errorCode(r) == "method_not_allowed");

    r = f.call("DELETE", "/whep/lobby/abc", {}, kToken, {});
    CHECK(r.status == 200);
    CHECK(f.seen.back().rest == "/abc");
    r = f.call("DELETE", "/whep/lobby/nope", {}, kToken, {});
    CHECK(r.status == 404);
    CHECK(errorCode(r) == "not_found");

    // The handler's own errors keep the API's shape.
    r = f.call("POST", "/whep/empty", kOffer);
    CHECK(r.status == 404);
    CHECK(errorCode(r) == "room_not_found");

    // A method the endpoints do not serve never reaches the handler.
    const size_t before = f.seen.size();
    r = f.call("GET", "/whep/lobby", {}, kToken, {});
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST, PATCH, DELETE");
    CHECK(f.seen.size() == before);
}

TEST_CASE("SDP endpoints accept viewer tokens for their room only", "[api][sdp][auth]")
{
    Fixture f;
    auto r = f.call("POST", "/whep/lobby", kOffer, viewerToken("lobby", 60));
    CHECK(r.status == 201);
    REQUIRE(f.seen.size() == 1);
    CHECK(f.seen[0].auth == MediaAuthKind::RoomToken);

    r = f.call("POST", "/whep/studio", kOffer, viewerToken("lobby", 60));
    CHECK(r.status == 403);
    CHECK(errorCode(r) == "forbidden");
    r = f.call("POST", "/whep/lobby", kOffer, viewerToken("lobby", -5));
    CHECK(r.status == 401);
    CHECK(errorCode(r) == "unauthorized");
    CHECK(r.header("www-authenticate").rfind("Bearer", 0) == 0);
    r = f.call("POST", "/whep/lobby", kOffer, "wrong");
    CHECK(r.status == 401);
    r = f.call("POST", "/whep/lobby", kOffer, "");
    CHECK(r.status == 401);
    CHECK(f.seen.size() == 1);

    // A viewer token is not an API token.
    r = f.client.request("GET", f.base + "/v1/rooms", {},
        { { "Authorization", "Bearer " + viewerToken("lobby", 60) } });
    CHECK(r.status == 401);
}

TEST_CASE("SDP endpoints refuse bad input with the API's error shape", "[api][sdp]")
{
    Fixture f;
    auto r = f.call("POST", "/whep/lobby", kOffer, kToken, "application/json");
    CHECK(r.status == 415);
    CHECK(errorCode(r) == "unsupported_media_type");
    r = f.call("POST", "/whep/lobby", kOffer, kToken, "");
    CHECK(r.status == 415);

    r = f.call("POST", "/whep/lobby", std::string(5000, 'a'));
    CHECK(r.status == 413);
    CHECK(errorCode(r) == "body_too_large");

    for (const char *path : { "/whep", "/whep/", "/whep/bad%20room", "/whep/a.b" }) {
        INFO(path);
        r = f.call("POST", path, kOffer);
        CHECK(r.status == 404);
        CHECK(errorCode(r) == "room_not_found");
    }
    CHECK(f.seen.empty());

    // The JSON API keeps its own limits and routes.
    r = f.call("POST", "/whip/lobby", kOffer);
    CHECK(r.status == 404);
}

TEST_CASE("an SDP handler may answer later", "[api][sdp]")
{
    Fixture f;
    f.defer = true;
    HttpResponse r;
    bool done = false;

    auto exchange = [&] {
        r = f.call("POST", "/whep/lobby", kOffer);
        done = true;
    };
    // The HttpClient iterates the loop itself: answer from inside a timeout on the same loop.
    auto *source = g_timeout_source_new(200);
    g_source_set_callback(
        source,
        [](gpointer data) -> gboolean {
            auto *fx = static_cast<Fixture *>(data);
            if (fx->deferred.empty())
                return G_SOURCE_CONTINUE;
            SdpResponse answer;
            answer.status = SOUP_STATUS_CREATED;
            answer.contentType = "application/sdp";
            answer.body = "late";
            answer.location = "/whep/lobby/late";
            fx->deferred.front()(std::move(answer));
            fx->deferred.clear();
            return G_SOURCE_REMOVE;
        },
        &f, nullptr);
    g_source_attach(source, f.loop.context());
    g_source_unref(source);
    exchange();
    CHECK(done);
    CHECK(r.status == 201);
    CHECK(r.body == "late");
    CHECK(r.header("location") == "/whep/lobby/late");
    CHECK(f.api->pendingRequests() == 0);
}
