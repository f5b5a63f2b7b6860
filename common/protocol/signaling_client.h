// A room-protocol client over a libsoup 3 WebSocket that joins one room and,
// if the connection drops, reconnects with capped exponential backoff and
// joins again.
//
// Thread-bound: created, used and destroyed on the thread that iterates the
// GMainContext it is given; all callbacks run there. That context must be the
// thread's thread-default context (g_main_context_push_thread_default) while
// it is iterated: libsoup 3 dispatches a session's I/O on the thread-default
// context, and otherwise the client silently never connects. Owned by whoever
// represents the membership (the gateway's room session, a test peer).
#pragma once

#include "common/base/backoff.h"
#include "common/base/gptr.h"
#include "common/base/soup_ptr.h"
#include "common/base/weak_self.h"
#include "common/protocol/room_link.h"
#include "common/protocol/room_protocol.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace rc {

class SignalingClient final : public RoomLink
{
public:
    enum class State { idle, connecting, joined, waitingToReconnect, stopped };

    struct Options
    {
        std::string url; // ws://host:port/ws or wss://
        // wss:// trusts the system's CAs, or only the PEM CAs in this file when it is set.
        // The server's certificate and name are always verified.
        std::string caFile;
        protocol::Join join;
        bool reconnect = true;
        std::chrono::milliseconds minBackoff { 250 };
        std::chrono::milliseconds maxBackoff { 8000 };
    };

    using Callbacks = RoomLink::Callbacks;

    SignalingClient(GMainContext *context, Options options, Callbacks callbacks);
    ~SignalingClient() override;
    SignalingClient(const SignalingClient &) = delete;
    SignalingClient &operator=(const SignalingClient &) = delete;

    void start() override;
    // Sends leave if joined, closes, and stops reconnecting.
    void stop() override;
    // Queues one text message; false when not joined.
    bool send(const std::string &text) override;
    // The token for the next join (a rotated token file); the current
    // membership is unaffected.
    void setJoinToken(std::optional<std::string> token) override
    {
        options_.join.token = std::move(token);
    }

    State state() const noexcept { return state_; }
    const std::string &peerId() const noexcept { return peerId_; }
    unsigned reconnects() const noexcept { return reconnects_; }

    // Process-wide figures for metrics and health, since the clients are
    // private to their owners (room sessions): reconnect attempts of every
    // client so far, and how many live clients are joined / trying to be.
    // Thread-safe.
    struct Totals
    {
        uint64_t reconnects = 0;
        size_t clients = 0; // started and not stopped
        size_t joined = 0;
    };
    static Totals totals() noexcept;

private:
    struct Trampolines;
    void connect();
    void onConnected(GPtr<SoupWebsocketConnection> connection);
    void onConnectFailed(const std::string &reason);
    void onText(const std::string &text);
    void onClosed();
    void scheduleReconnect(const std::string &reason);
    void dropConnection();
    void setState(State state) noexcept;

    GMainContext *context_; // borrowed: outlives this client by contract
    Options options_;
    Callbacks callbacks_;
    State state_ = State::idle;
    std::string peerId_;
    unsigned reconnects_ = 0;
    Backoff backoff_; // options_.minBackoff doubling up to maxBackoff; reset by a welcome
    GPtr<SoupSession> session_;
    GPtr<SoupWebsocketConnection> connection_;
    GPtr<GCancellable> cancellable_;
    GPtr<GSource> reconnectTimer_;
    SignalConnection messageHandler_;
    SignalConnection closedHandler_;
    // Async libsoup callbacks hold a weak reference through this token; last, so it dies first.
    WeakSelf<SignalingClient> self_ { this };
};

} // namespace rc
