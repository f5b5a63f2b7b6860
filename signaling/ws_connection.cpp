// RFC 6455 server connection over a stolen GIOStream; see ws_connection.h.
#include "signaling/ws_connection.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "signaling/ws_frame.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

namespace rc::signaling {
namespace {

// One read buffer for every connection of the thread: an idle connection holds none.
constexpr size_t kReadChunk = 64 * 1024;
// Fairness: at most this much from one connection per dispatch; the poller calls it again.
constexpr size_t kReadBudget = 4 * kReadChunk;
// Buffers larger than this are given back once empty.
constexpr size_t kKeepCapacity = 16 * 1024;

void shrink(std::string &s) noexcept
{
    if (s.capacity() > kKeepCapacity)
        std::string().swap(s);
    else
        s.clear();
}

} // namespace

WsConnection::WsConnection(Parts parts, FdPoller &poller, GMainContext *ctx,
    uint64_t maxIncomingPayload, Listener &listener)
    : stream_(std::move(parts.stream))
    , socket_(std::move(parts.socket))
    , extensions_(std::move(parts.extensions))
    , tls_(parts.tls)
    , fd_(socket_ ? g_socket_get_fd(socket_.get()) : -1)
    , poller_(poller)
    , ctx_(ctx)
    , maxIncoming_(maxIncomingPayload)
    , listener_(listener)
{ }

WsConnection::~WsConnection()
{
    terminate(false);
}

void WsConnection::start()
{
    key_ = poller_.add(fd_, this, false);
    poller_.again(key_);
}

void WsConnection::ioReady(uint32_t events) noexcept
{
    if (state_ == State::closed)
        return;
    try {
        if (!out_.empty() && !writeFailed_)
            flush();
        if (reading_ && !writeFailed_)
            readSome();
        else if (events & (EPOLLHUP | EPOLLERR))
            writeFailed_ = true; // nothing more will come, nothing can leave
        else if (events & EPOLLIN) {
            // Not reading any more (a close arrived, or the input broke the protocol): the
            // bytes are dropped so that the socket does not stay readable forever.
            uint8_t sink[4096];
            for (;;) {
                const gssize n = readInto(sink, sizeof sink);
                if (n == 0 || n == -2)
                    writeFailed_ = true;
                if (n <= 0)
                    break;
            }
        }
    } catch (const std::exception &e) {
        RC_LOG_ERROR("websocket: internal error: %s", e.what());
        writeFailed_ = true;
    } catch (...) {
        writeFailed_ = true;
    }
    if (state_ == State::closed)
        return;
    if (writeFailed_ || (closeSent_ && closeReceived_ && queuedBytes() == 0))
        terminate(true);
}

gssize WsConnection::readInto(uint8_t *buffer, size_t size)
{
    if (rawIo_) {
        const ssize_t n = recv(fd_, buffer, size, 0);
        if (n >= 0)
            return n;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
    }
    GError *raw = nullptr;
    auto *in = G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(stream_.get()));
    const gssize n = g_pollable_input_stream_read_nonblocking(in, buffer, size, nullptr, &raw);
    auto error = adopt(raw);
    if (n >= 0)
        return n;
    if (g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        // libsoup's buffer (bytes behind the upgrade request) is empty now: plain TCP can use
        // the socket directly from here on, without a GError per empty read.
        if (!tls_)
            rawIo_ = true;
        return -1;
    }
    return -2;
}

gssize WsConnection::writeFrom(const char *data, size_t size)
{
    if (!tls_) {
        const ssize_t n = send(fd_, data, size, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
    }
    GError *raw = nullptr;
    auto *out = G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(stream_.get()));
    // A TLS write that would block keeps its record and wants the same bytes again: the head
    // of out_ does not change until it is taken.
    const gssize n = g_pollable_output_stream_write_nonblocking(out, data, size, nullptr, &raw);
    auto error = adopt(raw);
    if (n >= 0)
        return n;
    return g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ? -1 : -2;
}

void WsConnection::readSome()
{
    thread_local std::string scratch(kReadChunk, '\0');
    size_t budget = kReadBudget;
    while (reading_ && state_ != State::closed) {
        if (budget == 0) {
            poller_.again(key_);
            return;
        }
        auto *buffer = reinterpret_cast<uint8_t *>(scratch.data());
        const gssize n = readInto(buffer, kReadChunk);
        if (n == -1)
            return;
        if (n <= 0) {
            writeFailed_ = true; // end of stream or reset: nothing more to do here
            return;
        }
        budget -= std::min<size_t>(budget, static_cast<size_t>(n));
        if (in_.empty()) {
            const size_t used = parse(buffer, static_cast<size_t>(n));
            if (used < static_cast<size_t>(n) && reading_)
                in_.assign(scratch.data() + used, static_cast<size_t>(n) - used);
        } else {
            in_.append(scratch.data(), static_cast<size_t>(n));
            const size_t used = parse(reinterpret_cast<uint8_t *>(in_.data()), in_.size());
            if (!reading_)
                shrink(in_);
            else if (used == in_.size())
                shrink(in_);
            else
                in_.erase(0, used);
        }
    }
}

size_t WsConnection::parse(uint8_t *data, size_t size)
{
    size_t at = 0;
    while (reading_ && state_ != State::closed) {
        const auto r = ws::parseClientHeader(data + at, size - at, maxIncoming_);
        if (r.status == ws::HeaderStatus::needMore)
            break;
        if (r.status == ws::HeaderStatus::protocolError) {
            fail(ws::kCloseProtocolError, r.error);
            break;
        }
        if (r.status == ws::HeaderStatus::tooBig) {
            fail(ws::kCloseTooBig, r.error);
            break;
        }
        const auto &h = r.header;
        if (size - at - h.headerSize < h.payloadSize)
            break; // the rest of the frame comes later
        uint8_t *payload = data + at + h.headerSize;
        const size_t payloadSize = static_cast<size_t>(h.payloadSize);
        ws::unmask(payload, payloadSize, h.mask);
        at += h.headerSize + payloadSize;
        handleFrame(h.first, payload, payloadSize);
    }
    return at;
}

void WsConnection::handleFrame(uint8_t first, uint8_t *payload, size_t size)
{
    const uint8_t opcode = first & 0x0f;
    const bool control = first & 0x08;
    if ((first & ws::kRsv23) || ((first & ws::kRsv1) && (extensions_.empty() || control))) {
        fail(ws::kCloseProtocolError, "a reserved bit is set that no extension defines");
        return;
    }
    if (control) {
        if (opcode == ws::kClose)
            handleClose(payload, size);
        else if (opcode == ws::kPing && !closeSent_)
            queueFrame(ws::kFin | ws::kPong,
                std::string_view(reinterpret_cast<const char *>(payload), size));
        return; // a pong needs nothing: TCP_INFO already saw the bytes (WebSocketPeer::silence)
    }
    if (opcode == ws::kContinuation) {
        if (!inMessage_) {
            fail(ws::kCloseProtocolError, "a continuation frame outside a fragmented message");
            return;
        }
    } else {
        if (inMessage_) {
            fail(ws::kCloseProtocolError, "a new message inside a fragmented one");
            return;
        }
        inMessage_ = true;
        messageText_ = opcode == ws::kText;
    }
    const bool fin = first & ws::kFin;
    std::string_view data(reinterpret_cast<const char *>(payload), size);
    GPtr<GBytes> processed;
    if (!extensions_.empty()) {
        // As libsoup runs them: per frame, header byte 0 in and out (the extension clears RSV1).
        guint8 header[2] = { first, 0 };
        GBytes *bytes = g_bytes_new(payload, size);
        for (auto &ext : extensions_) {
            GError *raw = nullptr;
            bytes
                = soup_websocket_extension_process_incoming_message(ext.get(), header, bytes, &raw);
            auto error = adopt(raw);
            if (!bytes) {
                fail(ws::kCloseProtocolError,
                    error ? error->message : "an extension refused a frame");
                return;
            }
        }
        processed = adopt(bytes);
        gsize n = 0;
        const auto *p = static_cast<const char *>(g_bytes_get_data(bytes, &n));
        data = std::string_view(p ? p : "", n);
    }
    if (fin && message_.empty()) {
        inMessage_ = false;
        deliver(data); // the common case: one frame, no copy
        return;
    }
    if (message_.size() + data.size() > maxIncoming_) {
        fail(ws::kCloseTooBig, "a message past the connection's payload limit");
        return;
    }
    message_.append(data);
    if (!fin)
        return;
    inMessage_ = false;
    std::string whole;
    whole.swap(message_);
    deliver(whole);
}

void WsConnection::deliver(std::string_view message)
{
    if (closeSent_)
        return; // the room logic has let this connection go
    if (messageText_ && !g_utf8_validate_len(message.data(), message.size(), nullptr)) {
        fail(ws::kCloseInvalidData, "invalid UTF-8 in a text message");
        return;
    }
    listener_.wsMessage(messageText_, message);
}

void WsConnection::handleClose(const uint8_t *payload, size_t size)
{
    if (size == 1) {
        fail(ws::kCloseProtocolError, "a close frame with a one-byte payload");
        return;
    }
    uint16_t code = 0;
    if (size >= 2) {
        code = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
        if (!ws::validCloseCode(code)) {
            fail(ws::kCloseProtocolError, "a close frame with an invalid status");
            return;
        }
        if (!g_utf8_validate_len(reinterpret_cast<const char *>(payload) + 2, size - 2, nullptr)) {
            fail(ws::kCloseInvalidData, "a close reason that is not UTF-8");
            return;
        }
    }
    closeReceived_ = true;
    peerCode_ = code;
    reading_ = false;
    if (!closeSent_) {
        // Echo the status (§5.5.1); the server then closes the TCP connection (§7.1.1).
        queueFrame(ws::kFin | ws::kClose, ws::closePayload(code, {}));
        closeSent_ = true;
        state_ = State::closing;
    }
}

void WsConnection::fail(uint16_t code, const std::string &message)
{
    reading_ = false; // whatever follows is not parsed
    inMessage_ = false;
    shrink(message_);
    if (closeSent_) {
        writeFailed_ = true; // already closing: just end it
        return;
    }
    listener_.wsError(code, message);
    close(code, {});
    // Nothing more is parsed, so the client's answer would go unseen: end the connection once
    // the close frame is out (ioReady), or at the close timeout.
    closeReceived_ = true;
}

void WsConnection::sendText(std::string_view text)
{
    if (closeSent_ || state_ != State::open)
        return;
    uint8_t first = ws::kFin | ws::kText;
    if (extensions_.empty()) {
        queueFrame(first, text);
        return;
    }
    guint8 header[2] = { first, 0 };
    GBytes *bytes = g_bytes_new(text.data(), text.size());
    for (auto &ext : extensions_) {
        GError *raw = nullptr;
        GBytes *next
            = soup_websocket_extension_process_outgoing_message(ext.get(), header, bytes, &raw);
        auto error = adopt(raw);
        if (!next)
            return; // cannot happen with ours (it sends unchanged on failure)
        bytes = next;
    }
    GPtr<GBytes> owned(bytes);
    gsize n = 0;
    const auto *p = static_cast<const char *>(g_bytes_get_data(bytes, &n));
    queueFrame(header[0], std::string_view(p ? p : "", n));
}

void WsConnection::ping()
{
    if (!closeSent_ && state_ == State::open)
        queueFrame(ws::kFin | ws::kPing, {});
}

void WsConnection::close(uint16_t code, std::string_view reason)
{
    if (closeSent_ || state_ == State::closed)
        return;
    queueFrame(ws::kFin | ws::kClose, ws::closePayload(code, reason));
    closeSent_ = true;
    state_ = State::closing;
    closeTimer_ = addTimeout(ctx_, kCloseTimeout, [this] {
        // The source ends by returning false: drop our reference without destroying it.
        g_source_unref(closeTimer_.release());
        terminate(true);
        return false;
    });
    if (key_)
        poller_.again(key_); // so that an answer or a failure is acted on promptly
}

void WsConnection::queueFrame(uint8_t first, std::string_view payload)
{
    if (state_ == State::closed || writeFailed_)
        return;
    ws::appendFrame(out_, first, payload);
    if (!writeBlocked_)
        flush();
}

void WsConnection::flush()
{
    while (outOffset_ < out_.size()) {
        const gssize n = writeFrom(out_.data() + outOffset_, out_.size() - outOffset_);
        if (n > 0) {
            outOffset_ += static_cast<size_t>(n);
            continue;
        }
        if (n == -1) {
            if (!writeBlocked_ && key_)
                poller_.setOutput(key_, true);
            writeBlocked_ = true;
            return;
        }
        // The peer is gone: end from the next dispatch, never inside a caller's broadcast.
        writeFailed_ = true;
        reading_ = false;
        if (key_)
            poller_.again(key_);
        return;
    }
    outOffset_ = 0;
    shrink(out_);
    if (writeBlocked_ && key_)
        poller_.setOutput(key_, false);
    writeBlocked_ = false;
    if (closeSent_ && closeReceived_ && key_)
        poller_.again(key_);
}

void WsConnection::releaseBuffers() noexcept
{
    std::string().swap(in_);
    std::string().swap(message_);
    std::string().swap(out_);
    outOffset_ = 0;
}

void WsConnection::terminate(bool notify) noexcept
{
    if (state_ == State::closed)
        return;
    state_ = State::closed;
    if (key_)
        poller_.remove(key_);
    closeTimer_.reset();
    if (socket_ && !g_socket_is_closed(socket_.get()))
        // Shut down first: a TLS close then cannot block on a full send buffer.
        g_socket_shutdown(socket_.get(), TRUE, TRUE, nullptr);
    if (stream_)
        g_io_stream_close(stream_.get(), nullptr, nullptr);
    if (socket_)
        g_socket_close(socket_.get(), nullptr);
    releaseBuffers();
    extensions_.clear();
    if (notify)
        listener_.wsClosed();
}

} // namespace rc::signaling
