// SignalingClient: libsoup glue, join, reconnect with backoff; see signaling_client.h.
#include "common/protocol/signaling_client.h"

#include "common/base/log.h"
#include "common/base/main_context.h"

#include <libsoup/soup.h>

#include <algorithm>
#include <atomic>

namespace rc {

namespace {
// Incoming messages are bounded by the spec at 64 KiB of JSON; libsoup counts
// compressed bytes, so its own limit is set well above and never the one hit.
constexpr guint64 kIncomingLimit = 4 * 1024 * 1024;

// SignalingClient::totals(): updated by setState() and the reconnect timer.
std::atomic<uint64_t> gReconnects { 0 };
std::atomic<size_t> gActive { 0 }; // clients neither idle nor stopped
std::atomic<size_t> gJoined { 0 };

bool isActive(SignalingClient::State s) noexcept
{
    return s != SignalingClient::State::idle && s != SignalingClient::State::stopped;
}

struct ConnectRequest
{
    WeakSelf<SignalingClient>::Ref owner;
};
} // namespace

struct SignalingClient::Trampolines
{
    static void connected(GObject *source, GAsyncResult *result, gpointer data) noexcept
    {
        std::unique_ptr<ConnectRequest> request(static_cast<ConnectRequest *>(data));
        GError *rawError = nullptr;
        auto connection
            = adopt(soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &rawError));
        auto error = adopt(rawError);
        SignalingClient *owner = request->owner.lock();
        if (!owner)
            return; // the client is gone; the connection (if any) is dropped here
        if (!connection)
            owner->onConnectFailed(error ? error->message : "connect failed");
        else
            owner->onConnected(std::move(connection));
    }

    static void message(SoupWebsocketConnection *, gint type, GBytes *bytes, gpointer data) noexcept
    {
        auto *self = static_cast<SignalingClient *>(data);
        if (type != SOUP_WEBSOCKET_DATA_TEXT)
            return;
        gsize size = 0;
        const char *text = static_cast<const char *>(g_bytes_get_data(bytes, &size));
        try {
            self->onText(std::string(text ? text : "", size));
        } catch (const std::exception &e) {
            RC_LOG_ERROR("signaling: message handler failed: %s", e.what());
        }
    }

    static void closed(SoupWebsocketConnection *, gpointer data) noexcept
    {
        auto *self = static_cast<SignalingClient *>(data);
        // Defer: the connection must not be released inside its own signal.
        self->self_.post(self->context_, [](SignalingClient &client) { client.onClosed(); });
    }
};

SignalingClient::SignalingClient(GMainContext *context, Options options, Callbacks callbacks)
    : context_(context)
    , options_(std::move(options))
    , callbacks_(std::move(callbacks))
    , backoff_(options_.minBackoff, options_.maxBackoff)
{ }

SignalingClient::~SignalingClient()
{
    setState(State::stopped);
    self_.invalidate();
    if (cancellable_)
        g_cancellable_cancel(cancellable_.get());
    dropConnection();
}

void SignalingClient::start()
{
    if (state_ != State::idle && state_ != State::stopped)
        return;
    g_main_context_push_thread_default(context_);
    // A session made while our context is thread-default does its I/O there.
    session_ = adopt(soup_session_new());
    g_main_context_pop_thread_default(context_);
    if (!options_.caFile.empty()) {
        GError *raw = nullptr;
        auto db = adopt(g_tls_file_database_new(options_.caFile.c_str(), &raw));
        auto error = adopt(raw);
        if (!db) {
            // Checked at start-up by the programs' options; a file gone since is fatal too.
            RC_LOG_ERROR("signaling: cannot load CA file %s: %s", options_.caFile.c_str(),
                error ? error->message : "unknown error");
            setState(State::stopped);
            if (callbacks_.onFatal)
                callbacks_.onFatal("bad-ca-file", "cannot load the signaling CA file");
            return;
        }
        soup_session_set_tls_database(session_.get(), db.get());
    }
    connect();
}

void SignalingClient::connect()
{
    setState(State::connecting);
    cancellable_ = adopt(g_cancellable_new());
    auto msg = adopt(soup_message_new(SOUP_METHOD_GET, options_.url.c_str()));
    if (!msg) {
        RC_LOG_ERROR("signaling: invalid URL '%s'", options_.url.c_str());
        setState(State::stopped);
        if (callbacks_.onFatal)
            callbacks_.onFatal("bad-url", "invalid signaling URL");
        return;
    }
    g_main_context_push_thread_default(context_);
    soup_session_websocket_connect_async(session_.get(), msg.get(), nullptr, nullptr,
        G_PRIORITY_DEFAULT, cancellable_.get(), Trampolines::connected,
        new ConnectRequest { self_.ref() });
    g_main_context_pop_thread_default(context_);
}

void SignalingClient::onConnected(GPtr<SoupWebsocketConnection> connection)
{
    if (state_ == State::stopped)
        return;
    connection_ = std::move(connection);
    soup_websocket_connection_set_max_incoming_payload_size(connection_.get(), kIncomingLimit);
    soup_websocket_connection_set_keepalive_interval(connection_.get(), 10);
    messageHandler_ = SignalConnection(connection_.get(),
        g_signal_connect(connection_.get(), "message", G_CALLBACK(Trampolines::message), this));
    closedHandler_ = SignalConnection(connection_.get(),
        g_signal_connect(connection_.get(), "closed", G_CALLBACK(Trampolines::closed), this));
    soup_websocket_connection_send_text(
        connection_.get(), protocol::encodeJoin(options_.join).c_str());
}

void SignalingClient::onConnectFailed(const std::string &reason)
{
    if (state_ == State::stopped)
        return;
    scheduleReconnect("connect failed: " + reason);
}

void SignalingClient::onText(const std::string &text)
{
    std::string error;
    auto message = protocol::decodeServerMessage(text, error);
    if (!message) {
        RC_LOG_WARN("signaling: ignoring undecodable message: %s", error.c_str());
        return;
    }
    if (auto *welcome = std::get_if<protocol::Welcome>(&*message)) {
        setState(State::joined);
        peerId_ = welcome->id;
        backoff_.reset();
        if (callbacks_.onWelcome)
            callbacks_.onWelcome(*welcome);
        return;
    }
    if (auto *err = std::get_if<protocol::ServerError>(&*message)) {
        if (err->code == "unauthorized" || err->code == "room-full") {
            RC_LOG_ERROR("signaling: room %s refused us: %s (%s)", options_.join.room.c_str(),
                err->code.c_str(), err->message.c_str());
            setState(State::stopped);
            dropConnection();
            if (callbacks_.onFatal)
                callbacks_.onFatal(err->code, err->message);
            return;
        }
    }
    if (callbacks_.onMessage)
        callbacks_.onMessage(*message);
}

void SignalingClient::onClosed()
{
    if (state_ == State::stopped)
        return;
    gushort code = connection_ ? soup_websocket_connection_get_close_code(connection_.get()) : 0;
    if (code == protocol::kCloseUnauthorized || code == protocol::kCloseRoomFull) {
        setState(State::stopped);
        dropConnection();
        return; // onFatal was called from the error message that preceded the close
    }
    scheduleReconnect("connection closed (code " + std::to_string(code) + ")");
}

void SignalingClient::scheduleReconnect(const std::string &reason)
{
    dropConnection();
    peerId_.clear();
    if (callbacks_.onDisconnected)
        callbacks_.onDisconnected(reason);
    if (!options_.reconnect) {
        setState(State::stopped);
        return;
    }
    setState(State::waitingToReconnect);
    const auto delay = backoff_.next();
    RC_LOG_WARN("signaling: %s; reconnecting to room %s in %lld ms", reason.c_str(),
        options_.join.room.c_str(), static_cast<long long>(delay.count()));
    reconnectTimer_ = addTimeout(context_, delay, [ref = self_.ref()] {
        if (SignalingClient *self = ref.lock()) {
            ++self->reconnects_;
            gReconnects.fetch_add(1, std::memory_order_relaxed);
            // Release the timer after this dispatch, not from inside it.
            releaseLater(self->context_, std::move(self->reconnectTimer_));
            self->connect();
        }
        return false;
    });
}

void SignalingClient::stop()
{
    if (state_ == State::stopped)
        return;
    if (state_ == State::joined && connection_
        && soup_websocket_connection_get_state(connection_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text(connection_.get(), protocol::encodeLeave().c_str());
    setState(State::stopped);
    reconnectTimer_.reset();
    if (cancellable_)
        g_cancellable_cancel(cancellable_.get());
    dropConnection();
}

bool SignalingClient::send(const std::string &text)
{
    if (state_ != State::joined || !connection_
        || soup_websocket_connection_get_state(connection_.get()) != SOUP_WEBSOCKET_STATE_OPEN)
        return false;
    soup_websocket_connection_send_text(connection_.get(), text.c_str());
    return true;
}

void SignalingClient::dropConnection()
{
    messageHandler_.reset();
    closedHandler_.reset();
    if (!connection_)
        return;
    if (soup_websocket_connection_get_state(connection_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(connection_.get(), protocol::kCloseNormal, nullptr);
    // We may be inside the connection's own "message" signal (a fatal error
    // from the server, a callback that stops us) and libsoup does not hold a
    // reference across it: release the connection from a later dispatch,
    // which also gives the close frame (and a preceding leave) time to go out.
    releaseLater(context_, std::move(connection_));
}

void SignalingClient::setState(State state) noexcept
{
    if (isActive(state_) != isActive(state))
        isActive(state) ? gActive.fetch_add(1) : gActive.fetch_sub(1);
    if ((state_ == State::joined) != (state == State::joined))
        state == State::joined ? gJoined.fetch_add(1) : gJoined.fetch_sub(1);
    state_ = state;
}

SignalingClient::Totals SignalingClient::totals() noexcept
{
    return Totals { gReconnects.load(), gActive.load(), gJoined.load() };
}

} // namespace rc
