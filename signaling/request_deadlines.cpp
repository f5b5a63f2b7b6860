// HTTP request deadlines on libsoup's server signals; see request_deadlines.h.
#include "signaling/request_deadlines.h"

#include "common/base/log.h"
#include "common/base/main_context.h"

#include <exception>
#include <memory>
#include <string>

namespace rc::signaling {
namespace {

// Object data keys: the deadline on a message; on a socket (which outlives the messages of a
// kept-alive connection) the deadline between two requests and "has had a complete request".
constexpr const char *kDeadlineKey = "roomcast-request-deadline";
constexpr const char *kIdleDeadlineKey = "roomcast-idle-deadline";
constexpr const char *kServedKey = "roomcast-request-served";

std::string peerAddress(GSocket *socket)
{
    auto addr = adopt(g_socket_get_remote_address(socket, nullptr));
    if (!addr || !G_IS_INET_SOCKET_ADDRESS(addr.get()))
        return "?";
    auto *inet = G_INET_SOCKET_ADDRESS(addr.get());
    return takeString(g_inet_address_to_string(g_inet_socket_address_get_address(inet))) + ":"
        + std::to_string(g_inet_socket_address_get_port(inet));
}

// One request's deadline; destroyed with its message or when the request is complete.
// On a message it holds the socket; on the socket itself it must not (a reference cycle).
struct Deadline
{
    GPtr<GSocket> socket;
    GPtr<GSource> timer;

    static void destroy(gpointer data) noexcept { delete static_cast<Deadline *>(data); }
};

void expire(GSocket *socket, std::chrono::milliseconds timeout)
{
    if (g_socket_is_closed(socket))
        return;
    const bool keptAlive = g_object_get_data(G_OBJECT(socket), kServedKey) != nullptr;
    if (keptAlive)
        RC_LOG_DEBUG("closing an idle HTTP keep-alive connection from %s after %lld ms",
            peerAddress(socket).c_str(), static_cast<long long>(timeout.count()));
    else
        RC_LOG_INFO("dropping a connection from %s: no complete HTTP request within %lld ms",
            peerAddress(socket).c_str(), static_cast<long long>(timeout.count()));
    // Both directions: libsoup's pending read then ends and it disconnects the connection,
    // closing the socket and freeing the message (and this deadline) itself.
    g_socket_shutdown(socket, TRUE, TRUE, nullptr);
}

} // namespace

RequestDeadlines::RequestDeadlines(
    SoupServer *server, GMainContext *ctx, std::chrono::milliseconds timeout)
    : ctx_(ctx)
    , timeout_(timeout)
{
    started_ = SignalConnection(server,
        g_signal_connect(
            server, "request-started", G_CALLBACK(&RequestDeadlines::onRequestStarted), this));
    read_ = SignalConnection(server,
        g_signal_connect(
            server, "request-read", G_CALLBACK(&RequestDeadlines::onRequestRead), this));
    finished_ = SignalConnection(server,
        g_signal_connect(
            server, "request-finished", G_CALLBACK(&RequestDeadlines::onRequestFinished), this));
}

void RequestDeadlines::onRequestStarted(
    SoupServer *, SoupServerMessage *msg, gpointer data) noexcept
{
    auto *self = static_cast<RequestDeadlines *>(data);
    try {
        GSocket *socket = soup_server_message_get_socket(msg); // borrowed
        if (!socket)
            return; // a stream given to soup_server_accept_iostream: not ours
        // The next request of a kept-alive connection has begun: its own deadline follows.
        g_object_set_data(G_OBJECT(socket), kIdleDeadlineKey, nullptr);
        auto deadline = std::make_unique<Deadline>();
        deadline->socket = ref(socket);
        deadline->timer
            = addTimeout(self->ctx_, self->timeout_, [socket, timeout = self->timeout_] {
                  // The deadline (and so this timer and the socket reference) lives until the
                  // message dies, which cannot happen before this callback returns.
                  expire(socket, timeout);
                  return false;
              });
        g_object_set_data_full(G_OBJECT(msg), kDeadlineKey, deadline.release(), &Deadline::destroy);
    } catch (const std::exception &e) {
        RC_LOG_ERROR("cannot start a request deadline: %s", e.what());
    } catch (...) { }
}

void RequestDeadlines::onRequestFinished(
    SoupServer *, SoupServerMessage *msg, gpointer data) noexcept
{
    auto *self = static_cast<RequestDeadlines *>(data);
    try {
        GSocket *socket = soup_server_message_get_socket(msg); // borrowed
        if (!socket || g_socket_is_closed(socket))
            return;
        // Kept alive or about to be closed by libsoup: either way nothing is in progress.
        auto deadline = std::make_unique<Deadline>();
        deadline->timer
            = addTimeout(self->ctx_, self->timeout_, [socket, timeout = self->timeout_] {
                  // The deadline is object data of the socket, so the socket lives.
                  expire(socket, timeout);
                  return false;
              });
        g_object_set_data_full(
            G_OBJECT(socket), kIdleDeadlineKey, deadline.release(), &Deadline::destroy);
    } catch (const std::exception &e) {
        RC_LOG_ERROR("cannot start a keep-alive deadline: %s", e.what());
    } catch (...) { }
}

void RequestDeadlines::onRequestRead(SoupServer *, SoupServerMessage *msg, gpointer) noexcept
{
    if (GSocket *socket = soup_server_message_get_socket(msg))
        g_object_set_data(G_OBJECT(socket), kServedKey, GINT_TO_POINTER(1));
    // Destroys the deadline: from here on the request is handled, and its response (a file,
    // a 101 and a WebSocket) is never cut by this rule.
    g_object_set_data(G_OBJECT(msg), kDeadlineKey, nullptr);
}

} // namespace rc::signaling
