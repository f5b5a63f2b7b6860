// One client's libsoup WebSocket connection, seen by the room logic as a PeerLink, with its
// join timer and its outgoing queue budget.
//
// Owned by the RoomServer; thread-bound to the server's GMainContext (libsoup
// emits every signal there). Translates libsoup signals into calls on the
// SignalDispatcher; its trampolines are noexcept.
#pragma once

#include "common/base/soup_ptr.h"
#include "signaling/peer_link.h"
#include "signaling/send_budget.h"
#include "signaling/signal_dispatcher.h"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace rc::signaling {

struct PeerLimits
{
    std::chrono::milliseconds joinTimeout { 10000 };
    uint64_t maxQueuedBytes = 1024 * 1024;
};

class WebSocketPeer final : public PeerLink
{
public:
    // conn and socket are borrowed; the peer takes its own references. Its timers run on
    // ctx. onClosed runs once, after the dispatcher has been told, from inside
    // libsoup's "closed" signal: it must not destroy the peer synchronously.
    WebSocketPeer(SoupWebsocketConnection *conn, GSocket *socket, std::string label,
        SignalDispatcher &dispatcher, GMainContext *ctx, const PeerLimits &limits,
        std::function<void(WebSocketPeer *)> onClosed);
    ~WebSocketPeer();
    WebSocketPeer(const WebSocketPeer &) = delete;
    WebSocketPeer &operator=(const WebSocketPeer &) = delete;

    // Queues text unless that would pass the queue limit: then the message and every later
    // one are dropped and, from a later dispatch (never inside the caller's broadcast), the
    // dispatcher is told that this connection is too slow.
    void send(const std::string &text) override;
    // Starts the closing handshake. libsoup 3.2 refuses to send some valid statuses (1013
    // among them: it only sends 1000-1003, 1007-1011 and 3000-4999, and fails the connection
    // with 1002 otherwise); those are sent by hand, see closeByHand().
    void close(unsigned short code, const char *reason) override;
    const std::string &label() const override { return label_; }

    // Time since the peer last sent anything (pongs included); nullopt if unknown.
    std::optional<std::chrono::milliseconds> silence() const noexcept;
    bool closed() const noexcept { return closedReported_; }
    // Hands our reference to the connection to the caller, who must keep it until this peer
    // is destroyed (its signal handlers hold the connection as a raw pointer).
    GPtr<SoupWebsocketConnection> takeConnection() noexcept { return std::move(conn_); }
    SoupWebsocketConnection *connection() const noexcept { return conn_.get(); }
    // Called periodically: a connection that has been closing for longer than grace is shut
    // down. libsoup fails a connection on a protocol error (1002, 1007) with a close frame
    // behind whatever it has queued and, unlike after close(), no timeout: with a peer that
    // does not read, it would stay closing, holding its queue, forever.
    void enforceClosingDeadline(gint64 nowUs, gint64 graceUs) noexcept;
    // Upper bound of the bytes waiting in libsoup's queue, as last measured.
    uint64_t queuedBytes() const noexcept { return budget_.queued(); }

private:
    static void onMessage(
        SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer self) noexcept;
    static void onError(SoupWebsocketConnection *conn, GError *error, gpointer self) noexcept;
    static void onClosedSignal(SoupWebsocketConnection *conn, gpointer self) noexcept;
    bool admit(uint64_t frame);
    void overflow(uint64_t frame);
    void closeByHand(unsigned short code, const std::string &reason);
    bool handCloseTick();

    // ok: the budget applies; overflowed: a message did not fit, everything is dropped until
    // the dispatcher has judged; judged: the dispatcher's last words (too-slow) pass;
    // closing: a close frame is being sent by hand, nothing more is queued.
    enum class QueueState { ok, overflowed, judged, closing };

    // A close frame that libsoup will not send: written into the socket once libsoup's queue
    // is empty (so never inside one of its frames), then the write side is shut. Whatever
    // happens, the socket is shut down kHandCloseGrace after the close, or after the frame,
    // and libsoup's failing read then ends the connection.
    struct HandClose
    {
        unsigned short code = 0;
        std::string reason;
        gint64 deadlineUs = 0;
        bool frameSent = false;
        uint64_t lastTaken = UINT64_MAX;
    };

    // Declared before the signal connections so that they are disconnected first.
    GPtr<SoupWebsocketConnection> conn_;
    GPtr<GSocket> socket_;
    std::string label_;
    SignalDispatcher &dispatcher_;
    std::function<void(WebSocketPeer *)> onClosed_;
    bool closedReported_ = false;
    GMainContext *ctx_; // borrowed: the server's, which outlives its peers
    SendBudget budget_;
    uint64_t kernelBaseline_ = 0; // bytes the kernel had taken before the first message (the 101)
    QueueState queueState_ = QueueState::ok;
    GPtr<GSource> joinTimer_;
    GPtr<GSource> overflowIdle_;
    std::optional<HandClose> handClose_;
    gint64 closingSinceUs_ = 0;
    GPtr<GSource> handCloseTimer_;
    SignalConnection messageHandler_;
    SignalConnection errorHandler_;
    SignalConnection closedHandler_;
};

} // namespace rc::signaling
