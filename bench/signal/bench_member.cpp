// A load-client room member over a libsoup 3 WebSocket; see bench_member.h.
#include "bench_member.h"

#include "bench_clock.h"
#include "common/base/log.h"
#include "common/protocol/room_protocol.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <charconv>
#include <optional>
#include <variant>

namespace rc::bench {
namespace {

// Bench fields ride along as unknown members, which the spec says a server
// forwards as sent. Receivers find them by text search instead of a JSON
// parse, so the client's own cost per message stays far below the server's.
constexpr std::string_view kSourceKey = "\"bench_src\"";
constexpr std::string_view kStampKey = "\"bench_ts\"";

// A realistic host candidate, so messages have the size of real trickle ICE.
constexpr const char *kCandidate
    = "candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host generation 0 "
      "ufrag bnch network-id 1";

// Browsers disable Nagle on their WebSocket connections, and so must a client
// that stands in for them: small frames would otherwise wait for the peer's
// delayed ACK (up to 40 ms on Linux) whenever one is already in flight.
void onNetworkEvent(
    SoupMessage *, GSocketClientEvent event, GIOStream *connection, gpointer) noexcept
{
    if (event != G_SOCKET_CLIENT_CONNECTED || !G_IS_SOCKET_CONNECTION(connection))
        return;
    GSocket *socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(connection));
    GError *raw = nullptr;
    if (!g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, 1, &raw)) {
        auto error = adopt(raw);
        RC_LOG_WARN("member: cannot set TCP_NODELAY: %s", error->message);
    }
}

std::optional<uint64_t> numberAfterKey(std::string_view text, std::string_view key)
{
    size_t pos = text.find(key);
    if (pos == std::string_view::npos)
        return std::nullopt;
    pos += key.size();
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == ':'))
        ++pos;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data() + pos)
        return std::nullopt;
    return value;
}

} // namespace

BenchMember::BenchMember(uint32_t index, std::string room, MemberListener &listener)
    : index_(index)
    , room_(std::move(room))
    , listener_(listener)
    , cancellable_(adopt(g_cancellable_new()))
{ }

BenchMember::~BenchMember()
{
    // A pending connect completes with CANCELLED and then never touches this.
    g_cancellable_cancel(cancellable_.get());
}

bool BenchMember::isOpen() const noexcept
{
    if (raw_)
        return raw_->open();
    return conn_ && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN;
}

void BenchMember::connect(SoupSession *session, const std::string &url)
{
    auto msg = adopt(soup_message_new("GET", url.c_str()));
    if (!msg) {
        closed_ = true;
        listener_.onConnected(*this, "not a valid URL: " + url);
        return;
    }
    // The handler needs no data, so it cannot outlive anything; libsoup keeps
    // the message alive while it connects.
    g_signal_connect(msg.get(), "network-event", G_CALLBACK(onNetworkEvent), nullptr);
    soup_session_websocket_connect_async(session, msg.get(), nullptr, nullptr, G_PRIORITY_DEFAULT,
        cancellable_.get(), onConnectDone, this);
}

void BenchMember::connectRaw(signaling::FdPoller &poller, uint16_t port, const std::string &path)
{
    raw_ = std::make_unique<RawWsClient>(poller, static_cast<RawWsClient::Listener &>(*this));
    raw_->connect(port, path);
}

void BenchMember::rawOpen()
{
    rawOpened_ = true;
    sendJoin();
    listener_.onConnected(*this, {});
}

void BenchMember::rawText(std::string_view text)
{
    handleText(text);
}

void BenchMember::rawClosed(const std::string &error)
{
    closed_ = true;
    if (!rawOpened_)
        listener_.onConnected(*this, error.empty() ? "closed during the upgrade" : error);
    else
        listener_.onClosed(*this);
}

void BenchMember::sendJoin()
{
    protocol::Join join;
    join.room = room_;
    join.name = "bench-" + std::to_string(index_);
    const std::string text = protocol::encodeJoin(join);
    if (raw_)
        raw_->sendText(text);
    else
        soup_websocket_connection_send_text(conn_.get(), text.c_str());
}

void BenchMember::onConnectDone(GObject *source, GAsyncResult *result, gpointer self) noexcept
{
    GError *raw = nullptr;
    auto conn = adopt(soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &raw));
    auto error = adopt(raw);
    // Cancelled means the member is being destroyed: self may already be gone.
    if (error && g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    auto *member = static_cast<BenchMember *>(self);
    if (!conn) {
        member->closed_ = true;
        member->listener_.onConnected(*member, error ? error->message : "connect failed");
        return;
    }
    member->conn_ = std::move(conn);
    SoupWebsocketConnection *c = member->conn_.get();
    member->messageHandler_
        = SignalConnection(c, g_signal_connect(c, "message", G_CALLBACK(onMessage), member));
    member->closedHandler_
        = SignalConnection(c, g_signal_connect(c, "closed", G_CALLBACK(onClosedSignal), member));

    member->sendJoin();
    member->listener_.onConnected(*member, {});
}

void BenchMember::setTarget(std::string_view targetId)
{
    std::string message
        = protocol::encodeCandidate(targetId, protocol::Candidate { kCandidate, "0", 0 });
    // Splice the bench fields in before the closing brace of the encoded object.
    message.pop_back();
    prefix_ = std::move(message);
    prefix_.append(",").append(kSourceKey).append(":").append(std::to_string(index_));
    prefix_.append(",").append(kStampKey).append(":");
    buffer_.reserve(prefix_.size() + 24);
}

void BenchMember::sendStamped(uint64_t nowNs)
{
    if ((!conn_ && !raw_) || prefix_.empty())
        return;
    buffer_.assign(prefix_);
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, nowNs);
    buffer_.append(digits, end);
    buffer_.push_back('}');
    if (raw_)
        raw_->sendText(buffer_);
    else
        soup_websocket_connection_send_text(conn_.get(), buffer_.c_str());
}

void BenchMember::close()
{
    if (raw_) {
        raw_->close(protocol::kCloseNormal);
        return;
    }
    if (isOpen())
        soup_websocket_connection_close(conn_.get(), protocol::kCloseNormal, nullptr);
}

void BenchMember::onMessage(
    SoupWebsocketConnection *, gint type, GBytes *message, gpointer self) noexcept
{
    if (type != SOUP_WEBSOCKET_DATA_TEXT)
        return;
    gsize size = 0;
    const auto *data = static_cast<const char *>(g_bytes_get_data(message, &size));
    try {
        static_cast<BenchMember *>(self)->handleText(std::string_view(data, size));
    } catch (const std::exception &e) {
        RC_LOG_ERROR("member: handling a message failed: %s", e.what());
    }
}

void BenchMember::onClosedSignal(SoupWebsocketConnection *, gpointer self) noexcept
{
    auto *member = static_cast<BenchMember *>(self);
    member->closed_ = true;
    member->listener_.onClosed(*member);
}

void BenchMember::handleText(std::string_view text)
{
    const uint64_t receivedNs = monotonicNs();
    if (auto stamp = numberAfterKey(text, kStampKey)) {
        if (auto src = numberAfterKey(text, kSourceKey)) {
            listener_.onStamped(*this, static_cast<uint32_t>(*src), *stamp, receivedNs);
            return;
        }
    }
    std::string error;
    auto decoded = protocol::decodeServerMessage(text, error);
    if (!decoded) {
        RC_LOG_WARN("member %u: undecodable server message: %s", index_, error.c_str());
        return;
    }
    if (auto *welcome = std::get_if<protocol::Welcome>(&*decoded)) {
        id_ = welcome->id;
        listener_.onWelcome(*this);
    } else if (auto *err = std::get_if<protocol::ServerError>(&*decoded)) {
        listener_.onServerError(*this, err->code);
    }
}

} // namespace rc::bench
