// libsoup glue of the room server; see room_server.h.
#include "signaling/room_server.h"

#include "roomcast-config.h"

#include "common/base/exit_codes.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "common/ops/tls_files.h"
#include "common/protocol/room_protocol.h"
#include "signaling/deflate_extension.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <exception>

namespace rc::signaling {
namespace {

std::string formatAddress(GInetSocketAddress *addr)
{
    GInetAddress *inet = g_inet_socket_address_get_address(addr); // borrowed
    std::string host = takeString(g_inet_address_to_string(inet));
    std::string port = std::to_string(g_inet_socket_address_get_port(addr));
    if (g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV6)
        return "[" + host + "]:" + port;
    return host + ":" + port;
}

// Object data on an upgrade request admitted under the connection cap.
constexpr const char *kUpgradeSlotKey = "roomcast-upgrade-slot";
// Object data on an upgrade request: the extensions its handshake accepted (a GList).
constexpr const char *kExtensionsKey = "roomcast-ws-extensions";

struct UpgradeSlot
{
    std::shared_ptr<size_t> pending;
    static void release(gpointer data) noexcept
    {
        auto *slot = static_cast<UpgradeSlot *>(data);
        --*slot->pending;
        delete slot;
    }
};

// GLib listens with a backlog of 10: a burst of handshakes (a thousand clients reconnecting
// after a restart) overflows it, and the kernel then drops or resets connections. Ours is the
// kernel's maximum (net.core.somaxconn caps it).
constexpr int kListenBacklog = 4096;

GPtr<GSocket> listenSocket(GSocketAddress *address, GError **error)
{
    auto socket = adopt(g_socket_new(g_socket_address_get_family(address), G_SOCKET_TYPE_STREAM,
        G_SOCKET_PROTOCOL_DEFAULT, error));
    if (!socket)
        return {};
    g_socket_set_listen_backlog(socket.get(), kListenBacklog);
    // As libsoup's own listener: an IPv6 address serves IPv6 only.
    if (g_socket_address_get_family(address) == G_SOCKET_FAMILY_IPV6
        && !g_socket_set_option(socket.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
        return {};
    if (!g_socket_bind(socket.get(), address, TRUE, error) || !g_socket_listen(socket.get(), error))
        return {};
    return socket;
}

} // namespace

RoomServer::RoomServer(RoomServerConfig config, GMainContext *ctx)
    : config_(std::move(config))
    , ctx_(ref(ctx ? ctx : g_main_context_default()))
    , dispatcher_(config_.rules)
    , poller_(ctx_.get())
{
    if (!config_.staticDir.empty())
        static_.emplace(config_.staticDir);
    extensionTypes_ = g_ptr_array_new_with_free_func(g_type_class_unref);
    g_ptr_array_add(extensionTypes_, g_type_class_ref(deflateExtensionType()));
}

RoomServer::~RoomServer()
{
    *alive_ = nullptr;
    capHandler_.reset();
    deadlines_.reset();
    livenessTimer_.reset();
    keepaliveTimer_.reset();
    joinTimer_.reset();
    reaper_.reset();
    // Still open ones send 1001 from their destructors (if the socket takes it now).
    peers_.clear();
    reap();
    if (server_)
        soup_server_disconnect(server_.get());
    g_ptr_array_unref(extensionTypes_);
}

uint16_t RoomServer::start()
{
    GMainContext *threadDefault = g_main_context_get_thread_default();
    if ((threadDefault ? threadDefault : g_main_context_default()) != ctx_.get())
        RC_LOG_WARN("RoomServer started while its context is not the thread-default one; "
                    "libsoup timers may land on the wrong context");

    server_ = adopt(static_cast<SoupServer *>(g_object_new(
        SOUP_TYPE_SERVER, "server-header", "roomcast-signal/" ROOMCAST_VERSION " ", nullptr)));
    // The upgrade is a plain handler: libsoup writes the 101, then WsConnection takes the
    // stream (ws_connection.h says why not libsoup's SoupWebsocketConnection). The extensions
    // offered are permessage-deflate, but ours: libsoup 3.2's inflates a whole frame with no
    // bound before any size check; ours stops one byte past the protocol's limit
    // (deflate_extension.h).
    soup_server_add_handler(
        server_.get(), protocol::kPath, &RoomServer::onWebSocketRequest, this, nullptr);
    soup_server_add_handler(server_.get(), nullptr, &RoomServer::onHttp, this, nullptr);
    deadlines_.emplace(server_.get(), ctx_.get(), config_.joinTimeout);
    capHandler_ = SignalConnection(server_.get(),
        g_signal_connect(
            server_.get(), "request-read", G_CALLBACK(&RoomServer::onRequestRead), this));

    std::string host = config_.host == "localhost" ? "127.0.0.1" : config_.host;
    auto inet = adopt(g_inet_address_new_from_string(host.c_str()));
    if (!inet)
        throw StartupError(
            exitcode::usage, "listen address '" + config_.host + "' is not an IP address");
    auto sockAddr = adopt(g_inet_socket_address_new(inet.get(), config_.port));
    const bool tls = !config_.tlsCertificateFile.empty();
    if (tls) {
        std::string error;
        auto cert = ops::loadTlsCertificate(config_.tlsCertificateFile, config_.tlsKeyFile, error);
        if (!cert)
            throw StartupError(exitcode::config, error);
        // The listener is bound to this property: a reload (reloadTls) reaches new connections.
        soup_server_set_tls_certificate(server_.get(), cert.get());
        RC_LOG_INFO("TLS: HTTPS and WSS only, certificate %s (%s)",
            config_.tlsCertificateFile.c_str(), ops::describeTlsCertificate(cert.get()).c_str());
    }
    GError *rawError = nullptr;
    auto listener = listenSocket(sockAddr.get(), &rawError);
    if (!listener
        || !soup_server_listen_socket(server_.get(), listener.get(),
            tls ? SOUP_SERVER_LISTEN_HTTPS : static_cast<SoupServerListenOptions>(0), &rawError)) {
        auto error = adopt(rawError);
        throw StartupError(exitcode::osError,
            "cannot listen on " + config_.host + ":" + std::to_string(config_.port) + ": "
                + (error ? error->message : "unknown error"));
    }

    uint16_t port = config_.port;
    GSList *listeners = soup_server_get_listeners(server_.get());
    if (listeners) {
        auto *socket = static_cast<GSocket *>(listeners->data);
        auto local = adopt(g_socket_get_local_address(socket, nullptr));
        if (local && G_IS_INET_SOCKET_ADDRESS(local.get())) {
            auto *inetLocal = G_INET_SOCKET_ADDRESS(local.get());
            port = g_inet_socket_address_get_port(inetLocal);
            address_ = formatAddress(inetLocal);
        }
    }
    g_slist_free(listeners);

    if (!config_.rules.secret)
        RC_LOG_WARN("no secret file configured: development mode, every join is accepted "
                    "without a token, hidden ones included");
    if (static_)
        RC_LOG_INFO("serving static files from %s", static_->root().c_str());
    const std::string cap
        = config_.maxConnections ? std::to_string(config_.maxConnections) : std::string("none");
    RC_LOG_INFO("limits: join timeout %lld ms, at most %llu bytes queued per connection, "
                "max connections %s",
        static_cast<long long>(config_.joinTimeout.count()),
        static_cast<unsigned long long>(config_.maxQueuedBytes), cap.c_str());

    const auto period = std::clamp(
        config_.peerTimeout / 4, std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
    livenessTimer_ = addTimeout(ctx_.get(), period, [this] {
        checkLiveness();
        return true;
    });
    keepaliveTimer_ = addTimeout(ctx_.get(),
        std::chrono::seconds(std::max<int64_t>(1, config_.pingInterval.count())), [this] {
            pingAll();
            return true;
        });
    RC_LOG_INFO("listening on %s%s", address_.c_str(), tls ? " (TLS)" : "");
    return port;
}

bool RoomServer::reloadTls()
{
    if (config_.tlsCertificateFile.empty() || !server_) {
        RC_LOG_INFO("reload: no TLS certificate configured, nothing to reload");
        return false;
    }
    std::string error;
    auto cert = ops::loadTlsCertificate(config_.tlsCertificateFile, config_.tlsKeyFile, error);
    if (!cert) {
        RC_LOG_ERROR("reload: %s; keeping the certificate in use", error.c_str());
        return false;
    }
    soup_server_set_tls_certificate(server_.get(), cert.get());
    RC_LOG_INFO("reload: TLS certificate %s (%s) for new connections",
        config_.tlsCertificateFile.c_str(), ops::describeTlsCertificate(cert.get()).c_str());
    return true;
}

void RoomServer::onWebSocketRequest(
    SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer data) noexcept
{
    auto *self = static_cast<RoomServer *>(data);
    try {
        self->handshake(msg);
    } catch (const std::exception &e) {
        RC_LOG_ERROR("cannot answer a WebSocket upgrade: %s", e.what());
        soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, nullptr);
    } catch (...) {
        soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, nullptr);
    }
}

void RoomServer::handshake(SoupServerMessage *msg)
{
    if (shuttingDown_) {
        soup_server_message_set_status(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, nullptr);
        return;
    }
    GList *accepted = nullptr;
    // Sets 101 and the response headers, or an error status (400 for a request that is not a
    // valid upgrade) that libsoup then answers.
    if (!soup_websocket_server_process_handshake(msg, nullptr, nullptr, extensionTypes_, &accepted))
        return;
    g_object_set_data_full(G_OBJECT(msg), kExtensionsKey, accepted, [](gpointer list) noexcept {
        g_list_free_full(static_cast<GList *>(list), g_object_unref);
    });
    // The stream can be taken only once the 101 is written, as libsoup's own handler does.
    g_signal_connect_data(
        msg, "wrote-informational", G_CALLBACK(&RoomServer::onUpgraded),
        new std::shared_ptr<RoomServer *>(alive_),
        [](gpointer alive, GClosure *) noexcept {
            delete static_cast<std::shared_ptr<RoomServer *> *>(alive);
        },
        GConnectFlags(0));
}

void RoomServer::onUpgraded(SoupServerMessage *msg, gpointer alive) noexcept
{
    RoomServer *self = *static_cast<std::shared_ptr<RoomServer *> *>(alive)->get();
    if (!self)
        return;
    try {
        self->accept(msg);
    } catch (const std::exception &e) {
        RC_LOG_ERROR("cannot accept a WebSocket connection: %s", e.what());
    } catch (...) {
        RC_LOG_ERROR("cannot accept a WebSocket connection");
    }
}

void RoomServer::accept(SoupServerMessage *msg)
{
    // The WebSocket now counts itself: release the slot its upgrade held.
    g_object_set_data(G_OBJECT(msg), kUpgradeSlotKey, nullptr);
    WsConnection::Parts parts;
    parts.tls = !config_.tlsCertificateFile.empty();
    parts.socket = ref(soup_server_message_get_socket(msg));
    const char *remote = soup_server_message_get_remote_host(msg);
    std::string label = "c" + std::to_string(nextConnection_++) + " " + (remote ? remote : "?");
    auto *accepted = static_cast<GList *>(g_object_steal_data(G_OBJECT(msg), kExtensionsKey));
    for (GList *l = accepted; l; l = l->next)
        parts.extensions.push_back(adopt(static_cast<SoupWebsocketExtension *>(l->data)));
    g_list_free(accepted);
    parts.stream = adopt(soup_server_message_steal_connection(msg));
    if (!parts.stream || !parts.socket)
        return;
    if (shuttingDown_) {
        g_socket_shutdown(parts.socket.get(), TRUE, TRUE, nullptr);
        g_io_stream_close(parts.stream.get(), nullptr, nullptr);
        return;
    }
    const PeerLimits limits { config_.maxQueuedBytes, config_.transportPayloadLimit };
    auto peer = std::make_unique<WebSocketPeer>(std::move(parts), std::move(label), dispatcher_,
        poller_, ctx_.get(), limits, [this](WebSocketPeer *p) { retire(p); });
    RC_LOG_DEBUG("connection %s opened", peer->label().c_str());
    WebSocketPeer *raw = peer.get();
    const uint64_t serial = nextConnection_;
    peers_.emplace(raw, PeerEntry { std::move(peer), serial });
    joinDeadlines_.push_back(
        JoinDeadline { g_get_monotonic_time() + config_.joinTimeout.count() * 1000, raw, serial });
    armJoinTimer();
    raw->start();
}

void RoomServer::armJoinTimer()
{
    if (joinTimer_ || joinDeadlines_.empty())
        return;
    const gint64 waitUs = std::max<gint64>(0, joinDeadlines_.front().atUs - g_get_monotonic_time());
    joinTimer_ = addTimeout(ctx_.get(), std::chrono::milliseconds((waitUs + 999) / 1000), [this] {
        // The source ends by returning false: drop our reference without destroying it.
        g_source_unref(joinTimer_.release());
        checkJoinDeadlines();
        armJoinTimer();
        return false;
    });
}

void RoomServer::checkJoinDeadlines()
{
    const gint64 now = g_get_monotonic_time();
    const std::string detail = "no valid 'join' within "
        + std::to_string(config_.joinTimeout.count()) + " ms of the WebSocket handshake";
    while (!joinDeadlines_.empty() && joinDeadlines_.front().atUs <= now) {
        const JoinDeadline d = joinDeadlines_.front();
        joinDeadlines_.pop_front();
        auto it = peers_.find(d.peer);
        // The dispatcher ignores a connection that has joined or is closing.
        if (it != peers_.end() && it->second.serial == d.serial && !d.peer->closed())
            dispatcher_.joinDeadline(d.peer, detail);
    }
}

void RoomServer::pingAll()
{
    for (const auto &[raw, entry] : peers_)
        raw->ping();
}

void RoomServer::onRequestRead(SoupServer *, SoupServerMessage *msg, gpointer data) noexcept
{
    auto *self = static_cast<RoomServer *>(data);
    try {
        if (!self->admitUpgrade(msg))
            soup_server_message_set_status(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, nullptr);
    } catch (...) {
        soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, nullptr);
    }
}

bool RoomServer::admitUpgrade(SoupServerMessage *msg)
{
    // request-read runs before any handler: a refusal here touches no room state, and a
    // status set here makes libsoup skip the WebSocket handshake and answer it instead.
    GUri *uri = soup_server_message_get_uri(msg);
    const char *path = uri ? g_uri_get_path(uri) : nullptr;
    if (!path || std::strcmp(path, protocol::kPath) != 0 || shuttingDown_)
        return true;
    if (config_.maxConnections > 0 && peers_.size() + *pendingUpgrades_ >= config_.maxConnections) {
        ++refused_;
        ++refusedSinceLog_;
        // One line per 10 s at most: a client retrying in a loop must not flood the log.
        const gint64 now = g_get_monotonic_time();
        if (lastRefusalLogUs_ == 0 || now - lastRefusalLogUs_ >= 10 * G_USEC_PER_SEC) {
            RC_LOG_WARN("refusing WebSocket upgrades with 503: %zu connection(s) open, "
                        "max-connections is %zu (%llu refused since the last notice)",
                peers_.size() + *pendingUpgrades_, config_.maxConnections,
                static_cast<unsigned long long>(refusedSinceLog_));
            lastRefusalLogUs_ = now;
            refusedSinceLog_ = 0;
        }
        return false;
    }
    ++*pendingUpgrades_;
    g_object_set_data_full(G_OBJECT(msg), kUpgradeSlotKey, new UpgradeSlot { pendingUpgrades_ },
        &UpgradeSlot::release);
    return true;
}

void RoomServer::onHttp(
    SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer data) noexcept
{
    auto *self = static_cast<RoomServer *>(data);
    try {
        if (self->static_) {
            self->static_->handle(msg);
            return;
        }
    } catch (const std::exception &e) {
        RC_LOG_ERROR("static file request failed: %s", e.what());
        soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, nullptr);
        return;
    } catch (...) {
        soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, nullptr);
        return;
    }
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, nullptr);
}

void RoomServer::reap() noexcept
{
    retired_.clear();
}

void RoomServer::retire(WebSocketPeer *peer)
{
    // Called from the peer's own "closed" signal: destroy it later, from an
    // idle owned by this server (so it cannot outlive the server).
    auto it = peers_.find(peer);
    if (it == peers_.end())
        return;
    RC_LOG_DEBUG("connection %s closed", peer->label().c_str());
    retired_.push_back(std::move(it->second.peer));
    peers_.erase(it);
    if (!reaper_) {
        GSource *idle = g_idle_source_new();
        g_source_set_callback(
            idle,
            [](gpointer data) noexcept -> gboolean {
                auto *self = static_cast<RoomServer *>(data);
                self->reap();
                // Dropping the handle here would destroy the running source;
                // release our reference and let G_SOURCE_REMOVE end it.
                g_source_unref(self->reaper_.release());
                return G_SOURCE_REMOVE;
            },
            this, nullptr);
        g_source_attach(idle, ctx_.get());
        reaper_ = GPtr<GSource>(idle);
    }
}

void RoomServer::checkLiveness()
{
    std::vector<WebSocketPeer *> silent;
    for (const auto &[raw, entry] : peers_) {
        const auto &peer = entry.peer;
        if (peer->closed())
            continue;
        auto quiet = peer->silence();
        if (quiet && *quiet > config_.peerTimeout)
            silent.push_back(raw);
    }
    for (WebSocketPeer *peer : silent) {
        dispatcher_.logError(peer, "timeout",
            "nothing received, pongs included, for " + std::to_string(config_.peerTimeout.count())
                + " ms");
        dispatcher_.drop(peer, "timeout");
        peer->close(protocol::kCloseGoingAway, "ping timeout");
    }
}

void RoomServer::shutdown()
{
    if (shuttingDown_)
        return;
    shuttingDown_ = true;
    RC_LOG_INFO("shutting down: closing %zu connection(s) with %u", peers_.size(),
        static_cast<unsigned>(protocol::kCloseGoingAway));
    if (server_)
        soup_server_disconnect(server_.get());
    livenessTimer_.reset();
    std::vector<WebSocketPeer *> open;
    for (const auto &[raw, peer] : peers_)
        open.push_back(raw);
    // Close everyone first, so that nobody is sent a peer-left for each
    // member that leaves during the shutdown.
    for (WebSocketPeer *peer : open)
        peer->close(protocol::kCloseGoingAway, "server shutting down");
    for (WebSocketPeer *peer : open)
        dispatcher_.drop(peer, "server shutdown");
}

} // namespace rc::signaling
