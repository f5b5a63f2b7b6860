// One client's WebSocket connection, seen by the room logic as a PeerLink, with its outgoing
// queue budget.
//
// Owned by the RoomServer; thread-bound to the server's GMainContext. Translates its
// WsConnection's events into calls on the SignalDispatcher; nothing throws out of them.
#pragma once

#include "signaling/peer_link.h"
#include "signaling/send_budget.h"
#include "signaling/signal_dispatcher.h"
#include "signaling/ws_connection.h"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace rc::signaling {

struct PeerLimits
{
    uint64_t maxQueuedBytes = 1024 * 1024;
    uint64_t maxIncomingPayload = 4 * 1024 * 1024;
};

class WebSocketPeer final : public PeerLink, private WsConnection::Listener
{
public:
    // Takes over the upgraded connection; the socket is watched through poller. onClosed runs
    // once, after the dispatcher has been told, from inside a poller dispatch: it must not
    // destroy the peer synchronously. Call start() once the peer is where it will stay.
    WebSocketPeer(WsConnection::Parts parts, std::string label, SignalDispatcher &dispatcher,
        FdPoller &poller, GMainContext *ctx, const PeerLimits &limits,
        std::function<void(WebSocketPeer *)> onClosed);
    ~WebSocketPeer();
    WebSocketPeer(const WebSocketPeer &) = delete;
    WebSocketPeer &operator=(const WebSocketPeer &) = delete;

    void start() { conn_.start(); }

    // Queues text unless that would pass the queue limit: then the message and every later
    // one are dropped and, from a later dispatch (never inside the caller's broadcast), the
    // dispatcher is told that this connection is too slow.
    void send(const std::string &text) override;
    // Starts the closing handshake (any valid status, 1013 and 44xx included).
    void close(unsigned short code, const char *reason) override;
    const std::string &label() const override { return label_; }

    // A keepalive ping, so that a live client always has something to answer (pong).
    void ping() { conn_.ping(); }
    // Time since the peer last sent anything (pongs included); nullopt if unknown.
    std::optional<std::chrono::milliseconds> silence() const noexcept;
    bool closed() const noexcept { return closedReported_; }
    // Upper bound of the bytes waiting to leave, as last measured.
    uint64_t queuedBytes() const noexcept { return budget_.queued(); }

private:
    void wsMessage(bool text, std::string_view data) override;
    void wsError(uint16_t code, const std::string &message) override;
    void wsClosed() override;
    bool admit(uint64_t frame);
    void overflow(uint64_t frame);

    // ok: the budget applies; overflowed: a message did not fit, everything is dropped until
    // the dispatcher has judged; judged: the dispatcher's last words (too-slow) pass.
    enum class QueueState { ok, overflowed, judged };

    std::string label_;
    SignalDispatcher &dispatcher_;
    std::function<void(WebSocketPeer *)> onClosed_;
    bool closedReported_ = false;
    GMainContext *ctx_; // borrowed: the server's, which outlives its peers
    SendBudget budget_;
    uint64_t kernelBaseline_ = 0; // bytes the kernel had taken before the first message (the 101)
    QueueState queueState_ = QueueState::ok;
    GPtr<GSource> overflowIdle_;
    WsConnection conn_; // last: its destructor may still write a close frame
};

} // namespace rc::signaling
