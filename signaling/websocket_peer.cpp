// libsoup signal trampolines for one client connection; see websocket_peer.h.
#include "signaling/websocket_peer.h"

#include "common/base/log.h"
#include "signaling/tcp_idle.h"

#include <exception>

namespace rc::signaling {

WebSocketPeer::WebSocketPeer(SoupWebsocketConnection *conn, GSocket *socket, std::string label,
    SignalDispatcher &dispatcher, std::function<void(WebSocketPeer *)> onClosed)
    : conn_(ref(conn))
    , socket_(ref(socket))
    , label_(std::move(label))
    , dispatcher_(dispatcher)
    , onClosed_(std::move(onClosed))
{
    dispatcher_.opened(this);
    messageHandler_ = SignalConnection(
        conn, g_signal_connect(conn, "message", G_CALLBACK(&WebSocketPeer::onMessage), this));
    errorHandler_ = SignalConnection(
        conn, g_signal_connect(conn, "error", G_CALLBACK(&WebSocketPeer::onError), this));
    closedHandler_ = SignalConnection(
        conn, g_signal_connect(conn, "closed", G_CALLBACK(&WebSocketPeer::onClosedSignal), this));
}

WebSocketPeer::~WebSocketPeer()
{
    messageHandler_.reset();
    errorHandler_.reset();
    closedHandler_.reset();
    if (!closedReported_) {
        // Destroyed while still open (server teardown): the dispatcher must
        // not keep a dangling link.
        dispatcher_.closed(this, "server stopped");
        if (soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close(
                conn_.get(), protocol::kCloseGoingAway, "server stopped");
    }
}

void WebSocketPeer::send(const std::string &text)
{
    if (soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN)
        return;
    soup_websocket_connection_send_text(conn_.get(), text.c_str());
}

void WebSocketPeer::close(unsigned short code, const char *reason)
{
    if (soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN)
        return;
    soup_websocket_connection_close(conn_.get(), code, reason);
}

std::optional<std::chrono::milliseconds> WebSocketPeer::silence() const noexcept
{
    if (!socket_ || g_socket_is_closed(socket_.get()))
        return std::nullopt;
    return timeSinceLastReceive(g_socket_get_fd(socket_.get()));
}

void WebSocketPeer::onMessage(
    SoupWebsocketConnection *, gint type, GBytes *message, gpointer data) noexcept
{
    auto *self = static_cast<WebSocketPeer *>(data);
    try {
        gsize size = 0;
        const auto *bytes = static_cast<const char *>(g_bytes_get_data(message, &size));
        if (type == SOUP_WEBSOCKET_DATA_TEXT)
            self->dispatcher_.text(self, std::string_view(bytes ? bytes : "", size));
        else
            self->dispatcher_.binary(self, size);
    } catch (const std::exception &e) {
        RC_LOG_ERROR(
            "conn=%s: internal error handling a message: %s", self->label_.c_str(), e.what());
    } catch (...) {
        RC_LOG_ERROR("conn=%s: internal error handling a message", self->label_.c_str());
    }
}

void WebSocketPeer::onError(SoupWebsocketConnection *, GError *error, gpointer data) noexcept
{
    auto *self = static_cast<WebSocketPeer *>(data);
    // libsoup reports protocol violations here and then closes by itself:
    // invalid UTF-8 in a text frame (1007), a bad frame (1002), a frame past
    // max-incoming-payload-size (reset).
    try {
        const std::string code = "websocket-" + std::to_string(error ? error->code : 0);
        self->dispatcher_.logError(self, code.c_str(), error ? error->message : "unknown error");
    } catch (...) { }
}

void WebSocketPeer::onClosedSignal(SoupWebsocketConnection *conn, gpointer data) noexcept
{
    auto *self = static_cast<WebSocketPeer *>(data);
    if (self->closedReported_)
        return;
    self->closedReported_ = true;
    try {
        const gushort code = soup_websocket_connection_get_close_code(conn);
        const std::string reason
            = code ? "closed (" + std::to_string(code) + ")" : "connection lost";
        self->dispatcher_.closed(self, reason.c_str());
        if (self->onClosed_)
            self->onClosed_(self);
    } catch (...) {
        RC_LOG_ERROR("conn=%s: internal error while closing", self->label_.c_str());
    }
}

} // namespace rc::signaling
