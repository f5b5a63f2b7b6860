// The room server: a libsoup 3 HTTP server with the WebSocket endpoint /ws and, optionally, static
// files on /.
//
// Embeddable: construct it with a config and the GMainContext it lives on,
// call start(), iterate the context. Owned by main() or by the embedding
// program; thread-bound to ctx. Use it on the thread that iterates ctx, with
// ctx pushed as that thread's default (g_main_context_push_thread_default):
// libsoup attaches some of its own sources to the thread-default context.
#pragma once

#include "common/base/soup_ptr.h"
#include "signaling/fd_poller.h"
#include "signaling/request_deadlines.h"
#include "signaling/room_server_config.h"
#include "signaling/signal_dispatcher.h"
#include "signaling/static_files.h"
#include "signaling/websocket_peer.h"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::signaling {

class RoomServer
{
public:
    RoomServer(RoomServerConfig config, GMainContext *ctx);
    ~RoomServer();
    RoomServer(const RoomServer &) = delete;
    RoomServer &operator=(const RoomServer &) = delete;

    // Binds and starts serving; returns the bound port (the real one when
    // config.port is 0) and logs "listening on HOST:PORT". Start-up code:
    // throws rc::StartupError (71) when the address cannot be bound.
    uint16_t start();
    // Reads the TLS certificate and key files again (certificate renewal, on SIGHUP) and uses
    // them for new connections; open ones keep theirs. False (logged, the old one kept) when
    // they cannot be loaded or no TLS is configured.
    bool reloadTls();

    // "127.0.0.1:8080" or "[::1]:8080", once started.
    const std::string &address() const noexcept { return address_; }

    // Stops accepting connections and closes every open one with 1001. The
    // caller keeps iterating the context until connectionCount() is 0 (the
    // closing handshakes) or its own deadline passes.
    void shutdown();

    // Open WebSocket connections (closing ones included).
    size_t connectionCount() const noexcept { return peers_.size(); }
    // WebSocket upgrades refused with 503 because of maxConnections.
    uint64_t refusedUpgrades() const noexcept { return refused_; }
    const SignalDispatcher &dispatcher() const noexcept { return dispatcher_; }

private:
    static void onWebSocketRequest(SoupServer *server, SoupServerMessage *msg, const char *path,
        GHashTable *query, gpointer self) noexcept;
    static void onUpgraded(SoupServerMessage *msg, gpointer alive) noexcept;
    static void onHttp(SoupServer *server, SoupServerMessage *msg, const char *path,
        GHashTable *query, gpointer self) noexcept;
    static void onRequestRead(SoupServer *server, SoupServerMessage *msg, gpointer self) noexcept;
    void handshake(SoupServerMessage *msg);
    void accept(SoupServerMessage *msg);
    bool admitUpgrade(SoupServerMessage *msg);
    void checkLiveness();
    void checkJoinDeadlines();
    void armJoinTimer();
    void pingAll();
    void retire(WebSocketPeer *peer);

    RoomServerConfig config_;
    GPtr<GMainContext> ctx_;
    SignalDispatcher dispatcher_; // declared before the peers, which report to it when destroyed
    std::optional<StaticFiles> static_;
    GPtr<SoupServer> server_;
    // What soup_websocket_server_process_handshake negotiates from: our permessage-deflate.
    GPtrArray *extensionTypes_ = nullptr;
    // Cleared by the destructor: a 101 written after we are gone must not reach us.
    std::shared_ptr<RoomServer *> alive_ = std::make_shared<RoomServer *>(this);
    std::optional<RequestDeadlines> deadlines_;
    SignalConnection capHandler_;
    // Upgrades admitted under the cap whose WebSocket does not exist yet; each admitted
    // message holds one count until accept() or its death, so a burst of simultaneous
    // upgrades cannot pass the cap. Shared with those messages, which may outlive us.
    std::shared_ptr<size_t> pendingUpgrades_ = std::make_shared<size_t>(0);
    uint64_t refused_ = 0;
    gint64 lastRefusalLogUs_ = 0;
    uint64_t refusedSinceLog_ = 0;
    std::string address_;
    // Every client socket is watched here; declared before the peers, which it outlives.
    FdPoller poller_;
    struct PeerEntry
    {
        std::unique_ptr<WebSocketPeer> peer;
        uint64_t serial = 0;
    };
    std::map<WebSocketPeer *, PeerEntry> peers_;
    std::vector<std::unique_ptr<WebSocketPeer>> retired_;
    void reap() noexcept;
    GPtr<GSource> reaper_;
    GPtr<GSource> livenessTimer_;
    GPtr<GSource> keepaliveTimer_;
    // Join deadlines in opening order (every connection gets the same timeout, so the queue
    // stays sorted): one timer for the whole server instead of one source per connection.
    struct JoinDeadline
    {
        gint64 atUs;
        WebSocketPeer *peer;
        uint64_t serial; // tells a new peer at a reused address from the one queued
    };
    std::deque<JoinDeadline> joinDeadlines_;
    GPtr<GSource> joinTimer_;
    uint64_t nextConnection_ = 1;
    bool shuttingDown_ = false;
};

} // namespace rc::signaling
