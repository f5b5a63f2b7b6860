// The control API server: auth and limits before the body is read, then routing; see control_api.h.
#include "gateway/ops/control_api.h"

#include "common/ops/tls_files.h"

#include "common/base/exit_codes.h"
#include "common/base/json.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "common/ops/http_json.h"
#include "gateway/ops/start_output_body.h"

#include <gio/gio.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

namespace rc { } // namespace rc

namespace rc::ops {
namespace {

constexpr const char *kBodyKey = "rc-control-api-body";

// A request body read into a bounded buffer: libsoup would otherwise
// accumulate a chunked body of any size in memory before our handler runs.
struct BodyBuffer
{
    size_t limit = 0;
    std::string data;
    bool overflow = false;
};

void onGotChunk(SoupServerMessage *, GBytes *chunk, gpointer data) noexcept
{
    auto *buf = static_cast<BodyBuffer *>(data);
    gsize size = 0;
    const auto *bytes = static_cast<const char *>(g_bytes_get_data(chunk, &size));
    if (buf->overflow || buf->data.size() + size > buf->limit) {
        buf->overflow = true;
        buf->data.clear();
        return;
    }
    buf->data.append(bytes, size);
}

bool isRoomName(const std::string &s)
{
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return g_ascii_isalnum(c) || c == '_' || c == '-';
    });
}

std::vector<std::string> splitPath(const std::string &path)
{
    std::vector<std::string> out;
    size_t pos = 1; // skip the leading '/'
    while (pos <= path.size()) {
        auto end = path.find('/', pos);
        out.push_back(path.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
        if (end == std::string::npos)
            break;
        pos = end + 1;
    }
    return out;
}

std::string resolveHost(const std::string &host)
{
    return host == "localhost" ? "127.0.0.1" : host;
}

} // namespace

struct ControlApi::Pending
{
    GPtr<SoupServerMessage> msg;
    guint successStatus = SOUP_STATUS_OK;
    bool paused = false;
    GPtr<GSource> timeout;
};

ControlApi::ControlApi(
    ControlApiConfig config, GMainContext *ctx, ControlBackend &backend, MetricsRegistry &metrics)
    : config_(std::move(config))
    , cors_(config_.corsOrigins)
    , ctx_(ref(ctx))
    , backend_(backend)
    , metrics_(metrics)
    , requests_(metrics.counterFamily(
          "roomcast_api_requests_total", "Control API responses, by HTTP status code.", { "code" }))
{ }

ControlApi::~ControlApi()
{
    self_.invalidate();
    stop();
}

uint16_t ControlApi::start()
{
    const std::string host = resolveHost(config_.host);
    auto inet = adopt(g_inet_address_new_from_string(host.c_str()));
    if (!inet)
        throw StartupError(
            exitcode::usage, "API listen address '" + config_.host + "' is not an IP address");
    loopback_ = g_inet_address_get_is_loopback(inet.get());
    if (!config_.token && !loopback_)
        throw StartupError(exitcode::config,
            "the control API would listen on " + config_.host
                + ", which is not a loopback address, without a token: "
                  "set api-token-file or listen on 127.0.0.1");
    if (config_.token && config_.token->empty())
        throw StartupError(exitcode::config, "the control API token is empty");

    // libsoup attaches the listener's sources to the thread-default context.
    g_main_context_push_thread_default(ctx_.get());
    server_ = adopt(soup_server_new("server-header", "roomcast", nullptr));
    soup_server_add_early_handler(
        server_.get(), nullptr, &ControlApi::onEarlyRequest, this, nullptr);
    soup_server_add_handler(server_.get(), nullptr, &ControlApi::onRequest, this, nullptr);
    auto sockAddr = adopt(g_inet_socket_address_new(inet.get(), config_.port));
    const bool tls = !config_.tlsCertificateFile.empty();
    if (tls) {
        std::string error;
        auto cert = loadTlsCertificate(config_.tlsCertificateFile, config_.tlsKeyFile, error);
        if (!cert) {
            g_main_context_pop_thread_default(ctx_.get());
            server_.reset();
            throw StartupError(exitcode::config, "control API: " + error);
        }
        // The listener is bound to this property: reloadTls() reaches new connections.
        soup_server_set_tls_certificate(server_.get(), cert.get());
    }
    GError *rawError = nullptr;
    const bool ok = soup_server_listen(server_.get(), sockAddr.get(),
        tls ? SOUP_SERVER_LISTEN_HTTPS : static_cast<SoupServerListenOptions>(0), &rawError);
    g_main_context_pop_thread_default(ctx_.get());
    if (!ok) {
        auto error = adopt(rawError);
        server_.reset();
        throw StartupError(exitcode::osError,
            "control API cannot listen on " + config_.host + ":" + std::to_string(config_.port)
                + ": " + (error ? error->message : "unknown error"));
    }
    port_ = config_.port;
    GSList *listeners = soup_server_get_listeners(server_.get());
    if (listeners) {
        auto local
            = adopt(g_socket_get_local_address(static_cast<GSocket *>(listeners->data), nullptr));
        if (local && G_IS_INET_SOCKET_ADDRESS(local.get()))
            port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local.get()));
    }
    g_slist_free(listeners);
    address_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":"
        + std::to_string(port_);
    if (!config_.token)
        RC_LOG_WARN("control API on %s without a token: any local user may control the gateway",
            address_.c_str());
    else if (!loopback_ && !tls)
        RC_LOG_WARN("control API on %s is plain HTTP: give it api-tls-certificate and "
                    "api-tls-key, or put it behind a TLS proxy",
            address_.c_str());
    RC_LOG_INFO("control API listening on %s%s", address_.c_str(), tls ? " (TLS)" : "");
    return port_;
}

void ControlApi::stop() noexcept
{
    pending_.clear();
    if (server_) {
        soup_server_disconnect(server_.get());
        server_.reset();
    }
}

bool ControlApi::reloadTls()
{
    if (config_.tlsCertificateFile.empty() || !server_)
        return false;
    std::string error;
    auto cert = loadTlsCertificate(config_.tlsCertificateFile, config_.tlsKeyFile, error);
    if (!cert) {
        RC_LOG_ERROR("reload: control API: %s; keeping the certificate in use", error.c_str());
        return false;
    }
    soup_server_set_tls_certificate(server_.get(), cert.get());
    RC_LOG_INFO("reload: control API TLS certificate %s (%s) for new connections",
        config_.tlsCertificateFile.c_str(), describeTlsCertificate(cert.get()).c_str());
    return true;
}

bool ControlApi::setToken(std::optional<std::string> token)
{
    if ((!token && !loopback_) || (token && token->empty()))
        return false;
    config_.token = std::move(token);
    return true;
}

void ControlApi::onEarlyRequest(
    SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer self) noexcept
{
    try {
        static_cast<ControlApi *>(self)->early(msg);
    } catch (...) {
        http::replyError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "internal error");
    }
}

void ControlApi::onRequest(
    SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) noexcept
{
    auto *api = static_cast<ControlApi *>(self);
    try {
        api->handle(msg, path ? path : "/");
    } catch (const std::exception &e) {
        RC_LOG_ERROR("control API: %s", e.what());
        api->respondError(msg, ApiError::internal("internal error"));
    } catch (...) {
        api->respondError(msg, ApiError::internal("internal error"));
    }
}

bool ControlApi::authorized(SoupServerMessage *msg)
{
    if (!config_.token)
        return true;
    const char *header = soup_message_headers_get_one(
        soup_server_message_get_request_headers(msg), "Authorization");
    auto presented = http::bearerToken(header);
    return presented && http::constantTimeEquals(*presented, *config_.token);
}

void ControlApi::early(SoupServerMessage *msg)
{
    // Runs once the headers are in, before the body. libsoup still reads a
    // body after an early refusal (unless the client sent "Expect:
    // 100-continue", which curl does for large bodies), so accumulation is
    // always off and only our bounded buffer keeps bytes: a hostile body
    // costs bandwidth, never memory.
    auto *buf = new BodyBuffer;
    buf->limit = config_.maxBodyBytes;
    g_object_set_data_full(
        G_OBJECT(msg), kBodyKey, buf, [](gpointer p) { delete static_cast<BodyBuffer *>(p); });
    soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
    g_signal_connect(msg, "got-chunk", G_CALLBACK(onGotChunk), buf);

    // CORS first, for the SDP endpoints too: a WHEP player or WHIP page on another origin
    // sends a preflight without a token and reads Location from the answer.
    applyCors(msg);
    if (std::strcmp(soup_server_message_get_method(msg), "OPTIONS") == 0)
        return; // a preflight: answered by handle() without a token
    const char *uriPath = g_uri_get_path(soup_server_message_get_uri(msg));
    const std::string path = uriPath ? uriPath : "/";
    if (sdpEndpoint(path)) {
        buf->limit = config_.maxSdpBytes;
        if (!earlySdp(msg, path))
            buf->overflow = true; // answered: keep nothing of the body
        return;
    }
    SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
    if (!authorized(msg)) {
        buf->overflow = true; // keep nothing
        soup_message_headers_replace(response, "WWW-Authenticate", "Bearer realm=\"roomcast\"");
        soup_message_headers_replace(response, "Connection", "close");
        respondError(msg,
            ApiError::unauthorized("a valid 'Authorization: Bearer TOKEN' header is required"));
        return;
    }
    SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
    if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH
        && static_cast<uint64_t>(soup_message_headers_get_content_length(headers))
            > config_.maxBodyBytes) {
        buf->overflow = true;
        soup_message_headers_replace(response, "Connection", "close");
        respondError(msg,
            ApiError::tooLarge("request bodies are limited to "
                + std::to_string(config_.maxBodyBytes) + " bytes"));
    }
}

std::string ControlApi::requestBody(SoupServerMessage *msg, bool &tooLarge)
{
    auto *buf = static_cast<BodyBuffer *>(g_object_get_data(G_OBJECT(msg), kBodyKey));
    tooLarge = buf && buf->overflow;
    return buf && !buf->overflow ? buf->data : std::string();
}

void ControlApi::countResponse(guint status)
{
    requests_.with({ std::to_string(status) }).inc();
}

void ControlApi::respondJson(SoupServerMessage *msg, guint status, JsonNode *body)
{
    http::replyJson(msg, status, body);
    countResponse(status);
}

void ControlApi::respondError(SoupServerMessage *msg, const ApiError &error)
{
    http::replyError(msg, error.status, error.code, error.message);
    countResponse(error.status);
    RC_LOG_DEBUG("control API: %s %s -> %u %s", soup_server_message_get_method(msg),
        g_uri_get_path(soup_server_message_get_uri(msg)), error.status, error.code.c_str());
}

void ControlApi::handle(SoupServerMessage *msg, const std::string &path)
{
    const std::string method = soup_server_message_get_method(msg);
    const bool read = method == "GET" || method == "HEAD";
    const auto seg = splitPath(path);
    auto allow = [&](const char *methods) {
        soup_message_headers_replace(
            soup_server_message_get_response_headers(msg), "Allow", methods);
        respondError(msg, ApiError::methodNotAllowed("use " + std::string(methods)));
    };

    if (method == "OPTIONS")
        return answerPreflight(msg);

    bool tooLarge = false;
    const std::string body = requestBody(msg, tooLarge);
    const bool sdp = sdpEndpoint(path) != nullptr;
    if (tooLarge) {
        respondError(msg,
            ApiError::tooLarge("request bodies are limited to "
                + std::to_string(sdp ? config_.maxSdpBytes : config_.maxBodyBytes) + " bytes"));
        return;
    }
    if (sdp)
        return handleSdp(msg, method, path, body);

    if (seg == std::vector<std::string> { "healthz" }) {
        if (!read)
            return allow("GET, HEAD");
        auto health = backend_.health();
        json::ObjectBuilder out;
        out.set("status", "ok");
        if (health && JSON_NODE_HOLDS_OBJECT(health.get())) {
            JsonObject *obj = json_node_get_object(health.get());
            GList *members = json_object_get_members(obj);
            for (GList *l = members; l; l = l->next) {
                const char *name = static_cast<const char *>(l->data);
                if (std::strcmp(name, "status") != 0)
                    out.set(name, adopt(json_node_copy(json_object_get_member(obj, name))));
            }
            g_list_free(members);
        }
        auto node = out.build();
        respondJson(msg, SOUP_STATUS_OK, node.get());
        return;
    }
    if (seg == std::vector<std::string> { "metrics" }) {
        if (!read)
            return allow("GET, HEAD");
        const std::string text = metrics_.render();
        soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
        soup_message_headers_replace(
            soup_server_message_get_response_headers(msg), "Cache-Control", "no-store");
        soup_server_message_set_response(
            msg, MetricsRegistry::contentType, SOUP_MEMORY_COPY, text.data(), text.size());
        countResponse(SOUP_STATUS_OK);
        return;
    }
    if (seg.size() == 6 && seg[0] == "v1" && seg[1] == "rooms" && seg[3] == "outputs")
        return handleOutputAction(msg, method, seg);
    if (seg.size() < 2 || seg[0] != "v1" || seg[1] != "rooms" || seg.size() > 5
        || (seg.size() >= 4 && seg[3] != "outputs")) {
        respondError(msg, ApiError::notFound("no such endpoint"));
        return;
    }
    if (seg.size() >= 3 && !isRoomName(seg[2])) {
        respondError(msg, ApiError::notFound("no such room", "room_not_found"));
        return;
    }
    if (seg.size() == 5 && !isOutputId(seg[4])) {
        respondError(msg, ApiError::notFound("no such output", "output_not_found"));
        return;
    }
    if (!read && refusingChanges_ && (seg.size() >= 3)) {
        if ((seg.size() == 4 && method == "POST") || (seg.size() != 4 && method == "DELETE")) {
            respondError(
                msg, ApiError::unavailable("the gateway is shutting down", "shutting_down"));
            return;
        }
    }
    switch (seg.size()) {
    case 2: {
        if (!read)
            return allow("GET, HEAD");
        auto rooms = backend_.listRooms();
        if (!rooms.ok())
            return respondError(msg, *rooms.error);
        auto node = json::ObjectBuilder().set("rooms", std::move(rooms.body)).build();
        respondJson(msg, SOUP_STATUS_OK, node.get());
        return;
    }
    case 3:
        if (method != "DELETE")
            return allow("DELETE");
        callAsync(msg, SOUP_STATUS_OK,
            [&](BackendReply reply) { backend_.leaveRoom(seg[2], std::move(reply)); });
        return;
    case 4:
        if (method != "POST")
            return allow("POST");
        handleStartOutput(msg, seg[2], body);
        return;
    case 5:
        if (method != "DELETE")
            return allow("DELETE");
        callAsync(msg, SOUP_STATUS_OK,
            [&](BackendReply reply) { backend_.stopOutput(seg[2], seg[4], std::move(reply)); });
        return;
    default:
        respondError(msg, ApiError::notFound("no such endpoint"));
    }
}

void ControlApi::handleOutputAction(
    SoupServerMessage *msg, const std::string &method, const std::vector<std::string> &seg)
{
    const bool pause = seg[5] == "pause";
    if (!pause && seg[5] != "resume")
        return respondError(msg, ApiError::notFound("no such endpoint"));
    if (!isRoomName(seg[2]))
        return respondError(msg, ApiError::notFound("no such room", "room_not_found"));
    if (!isOutputId(seg[4]))
        return respondError(msg, ApiError::notFound("no such output", "output_not_found"));
    if (method != "POST") {
        soup_message_headers_replace(
            soup_server_message_get_response_headers(msg), "Allow", "POST");
        return respondError(msg, ApiError::methodNotAllowed("use POST"));
    }
    if (refusingChanges_)
        return respondError(
            msg, ApiError::unavailable("the gateway is shutting down", "shutting_down"));
    BackendResult result = backend_.pauseOutput(seg[2], seg[4], pause);
    if (!result.ok())
        return respondError(msg, *result.error);
    auto empty = json::ObjectBuilder().build();
    respondJson(msg, SOUP_STATUS_OK, result.body ? result.body.get() : empty.get());
}

void ControlApi::handleStartOutput(
    SoupServerMessage *msg, const std::string &room, const std::string &text)
{
    const char *type = soup_message_headers_get_content_type(
        soup_server_message_get_request_headers(msg), nullptr);
    if (type && g_ascii_strcasecmp(type, "application/json") != 0) {
        respondError(msg,
            { SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                "send the body as application/json" });
        return;
    }
    auto parsed = parseStartOutputBody(text, config_.maxJsonDepth);
    if (auto *err = std::get_if<BodyError>(&parsed))
        return respondError(msg, ApiError::badRequest(err->message, err->code));
    const StartOutputBody &body = std::get<StartOutputBody>(parsed);
    auto specs = backend_.outputParams(body.pipeline);
    if (!specs)
        return respondError(msg,
            ApiError::badRequest("unknown pipeline '" + body.pipeline + "'", "unknown_pipeline"));
    auto checked = validateParams(*specs, body.params);
    if (!checked.ok()) {
        const std::string where = checked.error->param.empty()
            ? std::string("params")
            : "params." + checked.error->param.substr(0, 64);
        return respondError(
            msg, ApiError::badRequest(where + ": " + checked.error->message, "invalid_param"));
    }
    callAsync(msg, SOUP_STATUS_CREATED, [&](BackendReply reply) {
        backend_.startOutput(room, body.pipeline, checked.values, std::move(reply));
    });
}

void ControlApi::callAsync(
    SoupServerMessage *msg, guint successStatus, const std::function<void(BackendReply)> &call)
{
    const uint64_t id = addPending(msg, successStatus);
    std::shared_ptr<GMainContext> ctx(g_main_context_ref(ctx_.get()), g_main_context_unref);
    BackendReply reply = [ref = self_.ref(), id, ctx](BackendResult result) {
        if (!g_main_context_is_owner(ctx.get())) {
            auto shared = std::make_shared<BackendResult>(std::move(result));
            ref.post(ctx.get(),
                [id, shared](ControlApi &self) { self.complete(id, std::move(*shared)); });
            return;
        }
        if (ControlApi *self = ref.lock())
            self->complete(id, std::move(result));
    };
    call(std::move(reply));
    pauseIfPending(msg, id);
}

uint64_t ControlApi::addPending(SoupServerMessage *msg, guint successStatus)
{
    const uint64_t id = nextPending_++;
    auto pending = std::make_unique<Pending>();
    pending->msg = ref(msg);
    pending->successStatus = successStatus;
    pending_.emplace(id, std::move(pending));
    return id;
}

void ControlApi::pauseIfPending(SoupServerMessage *msg, uint64_t id)
{
    auto it = pending_.find(id);
    if (it == pending_.end())
        return; // answered during the call
    Pending &p = *it->second;
    soup_server_message_pause(msg);
    p.paused = true;
    // libsoup does not watch a paused request's connection, so a client that
    // leaves is only noticed when we answer; the timeout bounds the wait.
    p.timeout = addTimeout(ctx_.get(), config_.replyTimeout, [this, id] {
        auto found = pending_.find(id);
        if (found != pending_.end()) {
            // complete() destroys the Pending; let G_SOURCE_REMOVE end this source.
            g_source_unref(found->second->timeout.release());
            complete(id,
                BackendResult::failure(
                    ApiError::unavailable("the gateway did not answer in time", "timeout")));
        }
        return false;
    });
}

void ControlApi::complete(uint64_t id, BackendResult result)
{
    auto it = pending_.find(id);
    if (it == pending_.end())
        return; // timed out, client gone, or stopped
    std::unique_ptr<Pending> p = std::move(it->second);
    pending_.erase(it);
    SoupServerMessage *msg = p->msg.get();
    if (!result.ok()) {
        respondError(msg, *result.error);
    } else {
        if (p->successStatus == SOUP_STATUS_CREATED && result.body
            && JSON_NODE_HOLDS_OBJECT(result.body.get())) {
            auto outputId = json::stringMember(json_node_get_object(result.body.get()), "id");
            const char *path = g_uri_get_path(soup_server_message_get_uri(msg));
            if (outputId && isOutputId(*outputId) && path)
                soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                    "Location", (std::string(path) + "/" + *outputId).c_str());
        }
        auto empty = json::ObjectBuilder().build();
        respondJson(msg, p->successStatus, result.body ? result.body.get() : empty.get());
    }
    if (p->paused)
        soup_server_message_unpause(msg);
}

// Here rather than in control_api_sdp.cpp: it needs Pending.
void ControlApi::completeSdp(uint64_t id, SdpResponse response)
{
    auto it = pending_.find(id);
    if (it == pending_.end())
        return; // timed out, client gone, or stopped
    std::unique_ptr<Pending> p = std::move(it->second);
    pending_.erase(it);
    SoupServerMessage *msg = p->msg.get();
    SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
    for (const auto &[name, value] : response.headers) // errors too: Allow with a 405
        soup_message_headers_replace(headers, name.c_str(), value.c_str());
    if (response.error) {
        respondError(msg, *response.error);
    } else {
        if (!response.location.empty())
            soup_message_headers_replace(headers, "Location", response.location.c_str());
        if (!response.etag.empty())
            soup_message_headers_replace(headers, "ETag", response.etag.c_str());
        soup_server_message_set_status(msg, response.status, nullptr);
        if (!response.body.empty())
            soup_server_message_set_response(msg,
                response.contentType.empty() ? "application/sdp" : response.contentType.c_str(),
                SOUP_MEMORY_COPY, response.body.data(), response.body.size());
        countResponse(response.status);
    }
    if (p->paused)
        soup_server_message_unpause(msg);
}

} // namespace rc::ops
