// A client connection as the room logic sees it; see websocket_peer.h.
#include "signaling/websocket_peer.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "signaling/kernel_send_queue.h"
#include "signaling/tcp_idle.h"

#include <exception>

namespace rc::signaling {

WebSocketPeer::WebSocketPeer(WsConnection::Parts parts, std::string label,
    SignalDispatcher &dispatcher, FdPoller &poller, GMainContext *ctx, const PeerLimits &limits,
    std::function<void(WebSocketPeer *)> onClosed)
    : label_(std::move(label))
    , dispatcher_(dispatcher)
    , onClosed_(std::move(onClosed))
    , ctx_(ctx)
    , budget_(limits.maxQueuedBytes)
    , conn_(std::move(parts), poller, ctx, limits.maxIncomingPayload, *this)
{
    kernelBaseline_ = bytesTakenByKernel(conn_.fd()).value_or(0);
    dispatcher_.opened(this);
}

WebSocketPeer::~WebSocketPeer()
{
    overflowIdle_.reset();
    if (!closedReported_) {
        // Destroyed while still open (server teardown): the dispatcher must not keep a
        // dangling link. The close frame leaves if the socket takes it now.
        dispatcher_.closed(this, "server stopped");
        conn_.close(protocol::kCloseGoingAway, "server stopped");
    }
}

void WebSocketPeer::send(const std::string &text)
{
    if (conn_.state() != WsConnection::State::open)
        return;
    const uint64_t frame = SendBudget::frameBytes(text.size());
    if (!admit(frame))
        return;
    budget_.handed(frame);
    conn_.sendText(text);
}

bool WebSocketPeer::admit(uint64_t frame)
{
    switch (queueState_) {
    case QueueState::judged:
        return true;
    case QueueState::overflowed:
        return false;
    case QueueState::ok:
        break;
    }
    if (budget_.fits(frame))
        return true;
    // Only now ask the kernel how much of it has left our queue.
    if (auto taken = bytesTakenByKernel(conn_.fd()); taken && *taken >= kernelBaseline_)
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
    conn_.close(code, reason ? reason : "");
}

std::optional<std::chrono::milliseconds> WebSocketPeer::silence() const noexcept
{
    const int fd = conn_.fd();
    if (fd < 0)
        return std::nullopt;
    return timeSinceLastReceive(fd);
}

void WebSocketPeer::wsMessage(bool text, std::string_view data)
{
    try {
        if (text)
            dispatcher_.text(this, data);
        else
            dispatcher_.binary(this, data.size());
    } catch (const std::exception &e) {
        RC_LOG_ERROR("conn=%s: internal error handling a message: %s", label_.c_str(), e.what());
    } catch (...) {
        RC_LOG_ERROR("conn=%s: internal error handling a message", label_.c_str());
    }
}

void WebSocketPeer::wsError(uint16_t code, const std::string &message)
{
    // A protocol violation: invalid UTF-8 in a text message (1007), a bad frame (1002), a
    // frame or message past the transport limit (1009). The close follows.
    try {
        const std::string name = "websocket-" + std::to_string(code);
        dispatcher_.logError(this, name.c_str(), message);
    } catch (...) { }
}

void WebSocketPeer::wsClosed()
{
    if (closedReported_)
        return;
    closedReported_ = true;
    try {
        const uint16_t code = conn_.peerCloseCode();
        const std::string reason
            = code ? "closed (" + std::to_string(code) + ")" : "connection lost";
        dispatcher_.closed(this, reason.c_str());
        if (onClosed_)
            onClosed_(this);
    } catch (...) {
        RC_LOG_ERROR("conn=%s: internal error while closing", label_.c_str());
    }
}

} // namespace rc::signaling
