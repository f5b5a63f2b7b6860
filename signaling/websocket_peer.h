// One client's libsoup WebSocket connection, seen by the room logic as a PeerLink.
//
// Owned by the RoomServer; thread-bound to the server's GMainContext (libsoup
// emits every signal there). Translates libsoup signals into calls on the
// SignalDispatcher; its trampolines are noexcept.
#pragma once

#include "common/base/soup_ptr.h"
#include "signaling/peer_link.h"
#include "signaling/signal_dispatcher.h"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace rc::signaling {

class WebSocketPeer final : public PeerLink
{
public:
    // conn and socket are borrowed; the peer takes its own references.
    // onClosed runs once, after the dispatcher has been told, from inside
    // libsoup's "closed" signal: it must not destroy the peer synchronously.
    WebSocketPeer(SoupWebsocketConnection *conn, GSocket *socket, std::string label,
        SignalDispatcher &dispatcher, std::function<void(WebSocketPeer *)> onClosed);
    ~WebSocketPeer();
    WebSocketPeer(const WebSocketPeer &) = delete;
    WebSocketPeer &operator=(const WebSocketPeer &) = delete;

    void send(const std::string &text) override;
    void close(unsigned short code, const char *reason) override;
    const std::string &label() const override { return label_; }

    // Time since the peer last sent anything (pongs included); nullopt if unknown.
    std::optional<std::chrono::milliseconds> silence() const noexcept;
    bool closed() const noexcept { return closedReported_; }

private:
    static void onMessage(
        SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer self) noexcept;
    static void onError(SoupWebsocketConnection *conn, GError *error, gpointer self) noexcept;
    static void onClosedSignal(SoupWebsocketConnection *conn, gpointer self) noexcept;

    // Declared before the signal connections so that they are disconnected first.
    GPtr<SoupWebsocketConnection> conn_;
    GPtr<GSocket> socket_;
    std::string label_;
    SignalDispatcher &dispatcher_;
    std::function<void(WebSocketPeer *)> onClosed_;
    bool closedReported_ = false;
    SignalConnection messageHandler_;
    SignalConnection errorHandler_;
    SignalConnection closedHandler_;
};

} // namespace rc::signaling
