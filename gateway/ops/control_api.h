// The HTTP/JSON control API (libsoup server): bearer auth, body limits, routing to a
// ControlBackend, /metrics.
//
// Owned by main() (after the backend and the registry, so destroyed before
// them); thread-bound to the GMainContext it is given. Requests are handled
// on that context; a backend's slow answer pauses the request, never the loop.
#pragma once

#include "common/base/gptr.h"
#include "common/base/listen_address.h"
#include "common/base/soup_ptr.h"
#include "common/base/weak_self.h"
#include "gateway/ops/control_backend.h"
#include "gateway/ops/cors_policy.h"
#include "gateway/ops/media_auth.h"
#include "gateway/ops/metrics_registry.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rc::ops {

// A request to an SDP endpoint (WHEP, WHIP), already authorized and size-checked.
struct SdpRequest
{
    std::string method; // "POST", "PATCH" or "DELETE"
    std::string room; // the first path segment after the prefix, a valid room name
    std::string rest; // what follows "PREFIX/ROOM" ("" or "/SESSION..."), unchecked
    std::string contentType; // without parameters, lower case; "" when absent
    std::string ifMatch; // the If-Match header (trickle ICE), "" when absent
    std::string body; // at most ControlApiConfig::maxSdpBytes
    std::string query; // the raw query string ("" when none), e.g. WHIP's "name=..."
    MediaAuthKind auth = MediaAuthKind::Open;
};

// The answer to an SdpRequest: an error (the API's JSON error shape) or a status with an
// optional body; location and etag become headers when not empty.
struct SdpResponse
{
    std::optional<ApiError> error;
    guint status = SOUP_STATUS_OK;
    std::string contentType; // "" with no body
    std::string body;
    std::string location;
    std::string etag;
    std::vector<std::pair<std::string, std::string>> headers; // extra ones (Allow, Link...)

    static SdpResponse failure(ApiError e)
    {
        SdpResponse r;
        r.error = std::move(e);
        return r;
    }
};

// Called once per SdpResponse, on any thread (it is posted to the API's context).
using SdpReply = std::function<void(SdpResponse)>;
// Runs on the API's context; answers through reply, now or later.
using SdpEndpointHandler = std::function<void(const SdpRequest &, SdpReply)>;

struct ControlApiConfig
{
    std::string host = "127.0.0.1"; // IP literal or "localhost"
    uint16_t port = 8081; // 0 picks a free port
    std::optional<std::string> token; // nullopt: no --api-token-file (loopback only)
    size_t maxBodyBytes = 64 * 1024; // larger bodies: 413
    int maxJsonDepth = 16; // deeper bodies: 400
    std::chrono::milliseconds replyTimeout { 30000 }; // a backend that never replies: 503
    // SDP endpoints (WHEP/WHIP): bodies above this get 413; room tokens signed with this
    // secret are accepted besides the API token (nullopt: API token only).
    size_t maxSdpBytes = 64 * 1024;
    std::optional<std::string> mediaTokenSecret;
    // PEM files: with both the API speaks HTTPS only (reloadTls() on SIGHUP).
    std::string tlsCertificateFile, tlsKeyFile;
    // Browser origins allowed to call the API (CorsPolicy::isValidOrigin each); none: no CORS.
    std::vector<std::string> corsOrigins;
};

// "HOST:PORT" or "[IPV6]:PORT" (HOST an IP literal or "localhost"); false if malformed.
using ::rc::parseListenAddress;
// Whether host (IP literal or "localhost") is a loopback address.
using ::rc::isLoopbackHost;

class ControlApi
{
public:
    ControlApi(ControlApiConfig config, GMainContext *ctx, ControlBackend &backend,
        MetricsRegistry &metrics);
    ~ControlApi();
    ControlApi(const ControlApi &) = delete;
    ControlApi &operator=(const ControlApi &) = delete;

    // Listens; returns the port. Start-up code: throws StartupError(78) for
    // a non-loopback address without a token, (64) for a bad address, (71)
    // when it cannot listen.
    uint16_t start();
    // Stops listening and closes connections; pending requests are dropped.
    void stop() noexcept;

    // New token (SIGHUP re-reads the token file). nullopt turns auth off,
    // which is refused (false) unless the API listens on loopback.
    bool setToken(std::optional<std::string> token);
    // Reads the TLS files again for new connections (certificate renewal). False, logged,
    // the certificate in use kept, when they cannot be loaded or no TLS is configured.
    bool reloadTls();
    // Routes POST, PATCH and DELETE on "/PREFIX/ROOM[/...]" (prefix like "whep", no slashes) to
    // handler after the checks every SDP endpoint shares: authorization (media_auth.h), a valid
    // room name (404), the body limit (413) and, for POST, Content-Type application/sdp (415).
    // Call before start().
    void addSdpEndpoint(std::string prefix, SdpEndpointHandler handler);

    // While refusing, POST and DELETE answer 503 shutting_down (reads still work).
    void refuseChanges(bool refuse) noexcept { refusingChanges_ = refuse; }

    const std::string &address() const noexcept { return address_; } // "HOST:PORT"
    uint16_t port() const noexcept { return port_; }
    size_t pendingRequests() const noexcept { return pending_.size(); }

private:
    struct Pending;

    static void onEarlyRequest(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
        gpointer self) noexcept;
    static void onRequest(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
        gpointer self) noexcept;
    void early(SoupServerMessage *msg);
    void handle(SoupServerMessage *msg, const std::string &path);
    bool authorized(SoupServerMessage *msg);
    // The SDP endpoint path belongs to, nullptr for the JSON API.
    const SdpEndpointHandler *sdpEndpoint(
        const std::string &path, std::string *room = nullptr, std::string *rest = nullptr) const;
    bool earlySdp(SoupServerMessage *msg, const std::string &path);
    void handleSdp(SoupServerMessage *msg, const std::string &method, const std::string &path,
        const std::string &body);
    void completeSdp(uint64_t id, SdpResponse response);
    // Registers msg as waiting for an asynchronous answer; pauseIfPending() pauses it if the
    // answer has not come during the call.
    uint64_t addPending(SoupServerMessage *msg, guint successStatus);
    void pauseIfPending(SoupServerMessage *msg, uint64_t id);
    std::string requestBody(SoupServerMessage *msg, bool &tooLarge);

    // CORS, for every path (routes added later included): the headers of an allowed origin on
    // every answer, and OPTIONS preflights answered before the token check (a browser sends
    // none); a preflight grants nothing by itself, the request that follows still needs it.
    void applyCors(SoupServerMessage *msg);
    void answerPreflight(SoupServerMessage *msg);

    void respondJson(SoupServerMessage *msg, guint status, JsonNode *body);
    void respondError(SoupServerMessage *msg, const ApiError &error);
    void countResponse(guint status);

    // POST /v1/rooms/{room}/outputs/{id}/pause and .../resume (seg: the split path, 6 long).
    void handleOutputAction(
        SoupServerMessage *msg, const std::string &method, const std::vector<std::string> &seg);
    void handleStartOutput(
        SoupServerMessage *msg, const std::string &room, const std::string &body);
    // Calls the backend with a reply that answers msg, pausing it if the
    // backend has not replied by the time call() returns.
    void callAsync(
        SoupServerMessage *msg, guint successStatus, const std::function<void(BackendReply)> &call);
    void complete(uint64_t id, BackendResult result);

    ControlApiConfig config_;
    CorsPolicy cors_;
    GPtr<GMainContext> ctx_;
    ControlBackend &backend_;
    MetricsRegistry &metrics_;
    CounterFamily requests_;
    GPtr<SoupServer> server_;
    std::string address_;
    uint16_t port_ = 0;
    bool refusingChanges_ = false;
    bool loopback_ = true;

    std::map<std::string, SdpEndpointHandler> sdpEndpoints_;

    uint64_t nextPending_ = 1;
    std::map<uint64_t, std::unique_ptr<Pending>> pending_;
    // Replies hold a weak reference to this: a reply after destruction is dropped.
    WeakSelf<ControlApi> self_ { this }; // last: cut first
};

} // namespace rc::ops
