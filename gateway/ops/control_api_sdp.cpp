// The control API's SDP endpoints (WHEP, WHIP): shared checks, then the registered handler;
// see ControlApi::addSdpEndpoint in control_api.h.
#include "gateway/ops/control_api.h"

#include "common/base/log.h"

#include <gio/gio.h>

#include <algorithm>
#include <cstdint>

namespace rc::ops {
namespace {

constexpr const char *kAuthKey = "rc-control-api-media-auth";

// The JSON routes' rule for room names: [A-Za-z0-9_-]{1,64}.
bool isRoomName(const std::string &s)
{
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return g_ascii_isalnum(c) || c == '_' || c == '-';
    });
}

std::string header(SoupServerMessage *msg, const char *name)
{
    const char *v
        = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name);
    return v ? v : "";
}

} // namespace

void ControlApi::addSdpEndpoint(std::string prefix, SdpEndpointHandler handler)
{
    sdpEndpoints_[std::move(prefix)] = std::move(handler);
}

const SdpEndpointHandler *ControlApi::sdpEndpoint(
    const std::string &path, std::string *room, std::string *rest) const
{
    if (path.size() < 2 || path[0] != '/')
        return nullptr;
    const size_t prefixEnd = path.find('/', 1);
    auto it = sdpEndpoints_.find(
        path.substr(1, prefixEnd == std::string::npos ? std::string::npos : prefixEnd - 1));
    if (it == sdpEndpoints_.end())
        return nullptr;
    std::string r, tail;
    if (prefixEnd != std::string::npos) {
        const size_t roomEnd = path.find('/', prefixEnd + 1);
        r = path.substr(prefixEnd + 1,
            roomEnd == std::string::npos ? std::string::npos : roomEnd - prefixEnd - 1);
        if (roomEnd != std::string::npos)
            tail = path.substr(roomEnd);
    }
    if (room)
        *room = std::move(r);
    if (rest)
        *rest = std::move(tail);
    return &it->second;
}

bool ControlApi::earlySdp(SoupServerMessage *msg, const std::string &path)
{
    std::string room;
    sdpEndpoint(path, &room);
    SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
    MediaAuthConfig authConfig { config_.token, config_.mediaTokenSecret };
    const char *authorization = soup_message_headers_get_one(
        soup_server_message_get_request_headers(msg), "Authorization");
    auto auth = checkMediaAuthorization(authorization, isRoomName(room) ? room : std::string(),
        authConfig, std::chrono::system_clock::now());
    if (!auth.ok) {
        soup_message_headers_replace(response, "WWW-Authenticate", "Bearer realm=\"roomcast\"");
        soup_message_headers_replace(response, "Connection", "close");
        if (auth.forbidden)
            respondError(msg, { SOUP_STATUS_FORBIDDEN, "forbidden", auth.reason });
        else
            respondError(msg, ApiError::unauthorized(auth.reason));
        RC_LOG_INFO("control API: %s %s refused: %s", soup_server_message_get_method(msg),
            path.substr(0, path.find('/', 1)).c_str(), auth.reason.c_str());
        return false;
    }
    g_object_set_data(G_OBJECT(msg), kAuthKey, GINT_TO_POINTER(static_cast<int>(auth.kind) + 1));
    SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
    if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH
        && static_cast<uint64_t>(soup_message_headers_get_content_length(headers))
            > config_.maxSdpBytes) {
        soup_message_headers_replace(response, "Connection", "close");
        respondError(msg,
            ApiError::tooLarge(
                "SDP bodies are limited to " + std::to_string(config_.maxSdpBytes) + " bytes"));
        return false;
    }
    return true;
}

void ControlApi::handleSdp(SoupServerMessage *msg, const std::string &method,
    const std::string &path, const std::string &body)
{
    SdpRequest request;
    const SdpEndpointHandler *handler = sdpEndpoint(path, &request.room, &request.rest);
    if (!handler || !isRoomName(request.room))
        return respondError(msg, ApiError::notFound("no such room", "room_not_found"));
    if (method != "POST" && method != "PATCH" && method != "DELETE") {
        soup_message_headers_replace(
            soup_server_message_get_response_headers(msg), "Allow", "POST, PATCH, DELETE");
        return respondError(msg, ApiError::methodNotAllowed("use POST, PATCH or DELETE"));
    }
    if (refusingChanges_ && method == "POST")
        return respondError(
            msg, ApiError::unavailable("the gateway is shutting down", "shutting_down"));
    const char *type = soup_message_headers_get_content_type(
        soup_server_message_get_request_headers(msg), nullptr);
    if (type) {
        gchar *lower = g_ascii_strdown(type, -1);
        request.contentType = lower;
        g_free(lower);
    }
    if (method == "POST" && request.contentType != "application/sdp")
        return respondError(msg,
            { SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                "send the offer as application/sdp" });
    request.method = method;
    request.ifMatch = header(msg, "If-Match");
    request.body = body;
    if (GUri *uri = soup_server_message_get_uri(msg); uri && g_uri_get_query(uri))
        request.query = g_uri_get_query(uri);
    const int kind = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(msg), kAuthKey));
    request.auth = kind > 0 ? static_cast<MediaAuthKind>(kind - 1) : MediaAuthKind::Open;

    const uint64_t id = addPending(msg, SOUP_STATUS_OK);
    std::shared_ptr<GMainContext> ctx(g_main_context_ref(ctx_.get()), g_main_context_unref);
    SdpReply reply = [ref = self_.ref(), id, ctx](SdpResponse response) {
        if (!g_main_context_is_owner(ctx.get())) {
            auto shared = std::make_shared<SdpResponse>(std::move(response));
            ref.post(ctx.get(),
                [id, shared](ControlApi &self) { self.completeSdp(id, std::move(*shared)); });
            return;
        }
        if (ControlApi *self = ref.lock())
            self->completeSdp(id, std::move(response));
    };
    (*handler)(request, std::move(reply));
    pauseIfPending(msg, id);
}

} // namespace rc::ops
