// libsoup signal trampolines for one client connection; see websocket_peer.h.
#include "signaling/websocket_peer.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "signaling/kernel_send_queue.h"
#include "signaling/tcp_idle.h"

#include <exception>

namespace rc::signaling {

namespace {

int socketFd(GSocket *socket) noexcept
{
    return socket && !g_socket_is_closed(socket) ? g_socket_get_fd(socket) : -1;
}

// libsoup 3.2's close_connection() accepts these and 3000-4999 (1010 from a client only).
bool libsoupSends(unsigned short code) noexcept
{
    switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1011:
        return true;
    default:
        return code >= 3000 && code < 5000;
    }
}

// As long as libsoup waits for a close handshake before it drops a connection.
constexpr gint64 kHandCloseGraceUs = 5 * G_USEC_PER_SEC;

} // namespace

WebSocketPeer::WebSocketPeer(SoupWebsocketConnection *conn, GSocket *socket, std::string label,
    SignalDispatcher &dispatcher, GMainContext *ctx, const PeerLimits &limits,
    std::function<void(WebSocketPeer *)> onClosed)
    : conn_(ref(conn))
    , socket_(socket ? ref(socket) : GPtr<GSocket>())
    , label_(std::move(label))
    , dispatcher_(dispatcher)
    , onClosed_(std::move(onClosed))
    , ctx_(ctx)
    , budget_(limits.maxQueuedBytes)
    , kernelBaseline_(bytesTakenByKernel(socketFd(socket)).value_or(0))
{
    dispatcher_.opened(this);
    // The timer stays armed after a join: the dispatcher ignores it then, and one timer per
    // connection for joinTimeout costs less than tracking joins here.
    const std::string detail = "no valid 'join' within "
        + std::to_string(limits.joinTimeout.count()) + " ms of the WebSocket handshake";
    joinTimer_ = addTimeout(ctx, limits.joinTimeout, [this, detail] {
        dispatcher_.joinDeadline(this, detail);
        return false;
    });

    messageHandler_ = SignalConnection(
        conn, g_signal_connect(conn, "message", G_CALLBACK(&WebSocketPeer::onMessage), this));
    errorHandler_ = SignalConnection(
        conn, g_signal_connect(conn, "error", G_CALLBACK(&WebSocketPeer::onError), this));
    closedHandler_ = SignalConnection(
        conn, g_signal_connect(conn, "closed", G_CALLBACK(&WebSocketPeer::onClosedSignal), this));
}

WebSocketPeer::~WebSocketPeer()
{
    joinTimer_.reset();
    overflowIdle_.reset();
    handCloseTimer_.reset();
    messageHandler_.reset();
    errorHandler_.reset();
    closedHandler_.reset();
    if (!closedReported_ && conn_) {
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
    const uint64_t frame = SendBudget::frameBytes(text.size());
    if (!admit(frame))
        return;
    budget_.handed(frame);
    soup_websocket_connection_send_text(conn_.get(), text.c_str());
}

bool WebSocketPeer::admit(uint64_t frame)
{
    switch (queueState_) {
    case QueueState::judged:
        return true;
    case QueueState::overflowed:
    case QueueState::closing:
        return false;
    case QueueState::ok:
        break;
    }
    if (budget_.fits(frame))
        return true;
    // Only now ask the kernel how much of it has left libsoup's queue.
    if (auto taken = bytesTakenByKernel(socketFd(socket_.get()));
        taken && *taken >= kernelBaseline_)
        budget_.drained(*taken - kernelBaseline_);
    if (budget_.fits(frame))
        return true;
    overflow(frame);
    return false;
}

void WebSocketPeer::overflow(uint64_t frame)
{
    queueState_ = QueueState::overflowed;
    const std::string detail = "a message of " + std::to_string(frame) + " bytes would take "
        + "the outgoing queue past " + std::to_string(budget_.limit()) + " bytes ("
        + std::to_string(budget_.queued()) + " waiting)";
    // Later, never inside the broadcast that called send(): leaving the room sends peer-left
    // to members that broadcast may still be iterating over.
    overflowIdle_ = addTimeout(ctx_, std::chrono::milliseconds(0), [this, detail] {
        queueState_ = QueueState::judged;
        dispatcher_.tooSlow(this, detail);
        return false;
    });
}

void WebSocketPeer::close(unsigned short code, const char *reason)
{
    if (soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN || handClose_)
        return;
    if (libsoupSends(code))
        soup_websocket_connection_close(conn_.get(), code, reason);
    else
        closeByHand(code, reason ? reason : "");
}

void WebSocketPeer::closeByHand(unsigned short code, const std::string &reason)
{
    queueState_ = QueueState::closing;
    handClose_
        = HandClose { code, reason.substr(0, 123), g_get_monotonic_time() + kHandCloseGraceUs };
    handCloseTimer_
        = addTimeout(ctx_, std::chrono::milliseconds(50), [this] { return handCloseTick(); });
}

bool WebSocketPeer::handCloseTick()
{
    GSocket *socket = socket_.get();
    if (!socket || g_socket_is_closed(socket) || closedReported_)
        return false;
    HandClose &hc = *handClose_;
    const gint64 now = g_get_monotonic_time();
    if (!hc.frameSent) {
        // libsoup's queue is empty when the kernel has taken all we handed, and nothing more
        // for a whole tick although the socket is writable: libsoup writes whenever it is.
        const auto taken = bytesTakenByKernel(socketFd(socket));
        const bool writable = (g_socket_condition_check(socket, G_IO_OUT) & G_IO_OUT) != 0;
        if (taken && *taken >= kernelBaseline_ + budget_.handedTotal() && *taken == hc.lastTaken
            && writable) {
            std::string frame;
            frame += static_cast<char>(0x88); // FIN, close
            frame += static_cast<char>(2 + hc.reason.size());
            frame += static_cast<char>(hc.code >> 8);
            frame += static_cast<char>(hc.code & 0xff);
            frame += hc.reason;
            const gssize n = g_socket_send_with_blocking(
                socket, frame.data(), frame.size(), FALSE, nullptr, nullptr);
            hc.frameSent = n == static_cast<gssize>(frame.size());
            if (n > 0 && !hc.frameSent) {
                // Half a frame on the wire cannot be completed safely: end it here.
                g_socket_shutdown(socket, TRUE, TRUE, nullptr);
                return false;
            }
            if (hc.frameSent) {
                // Nothing of libsoup's may follow our close frame (its answer to the peer's
                // close would be a 1002): its writes now fail and it closes by itself.
                g_socket_shutdown(socket, FALSE, TRUE, nullptr);
                hc.deadlineUs = now + kHandCloseGraceUs;
                return true;
            }
        }
        if (taken)
            hc.lastTaken = *taken;
    }
    if (now >= hc.deadlineUs) {
        g_socket_shutdown(socket, TRUE, TRUE, nullptr);
        return false;
    }
    return true;
}

void WebSocketPeer::enforceClosingDeadline(gint64 nowUs, gint64 graceUs) noexcept
{
    if (closedReported_
        || (soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN
            && !handClose_))
        return;
    if (closingSinceUs_ == 0) {
        closingSinceUs_ = nowUs;
        return;
    }
    GSocket *socket = socket_.get();
    if (nowUs - closingSinceUs_ >= graceUs && socket && !g_socket_is_closed(socket)) {
        RC_LOG_DEBUG("conn=%s: still closing after %lld ms, shutting the socket down",
            label_.c_str(), static_cast<long long>((nowUs - closingSinceUs_) / 1000));
        // libsoup's read then ends and it closes the connection itself.
        g_socket_shutdown(socket, TRUE, TRUE, nullptr);
    }
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
    // Our own shutdown after a close sent by hand makes libsoup's writes fail: expected.
    if (self->handClose_)
        return;
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
