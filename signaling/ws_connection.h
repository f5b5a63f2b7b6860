// One server-side WebSocket connection after the HTTP upgrade: RFC 6455 framing over the
// stream stolen from libsoup, with its own outgoing queue and close handshake, watched through
// the server's FdPoller.
//
// Why not libsoup's SoupWebsocketConnection: libsoup 3.2 destroys and recreates its input
// source on every read, and GLib walks every watched fd on each add and remove (and around
// every dispatch); at 1,000 connections that was the largest cost per forwarded message
// (bench/RESULTS.md, "Room server forwarding"). Here a socket is one epoll entry for its whole
// life, an idle connection holds no buffer, the queue is ours to measure, and any valid close
// status can be sent (libsoup 3.2 refuses 1013 and others).
//
// What it implements (RFC 6455): masked client frames only; text, binary, continuation; ping
// (answered with a pong), pong, close (echoed, then the server closes the TCP connection, or
// after kCloseTimeout without an answer); fragmented messages reassembled up to the payload
// limit (1009 past it); text checked as UTF-8 (1007); RSV bits only as an extension allows
// (1002); negotiated extensions (permessage-deflate, see deflate_extension.h) run per frame
// through libsoup's SoupWebsocketExtension interface, as libsoup itself would run them.
//
// Owned by its WebSocketPeer; thread-bound to the server's GMainContext. Listener calls come
// only from the poller's dispatch or from the close timer, never from inside sendText(),
// ping() or close(), so a broadcast that sends to many connections never re-enters the room
// logic. The owner must not destroy the connection from inside a listener call.
#pragma once

#include "common/base/gptr.h"
#include "common/base/soup_ptr.h"
#include "signaling/fd_poller.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rc::signaling {

class WsConnection final : private FdPoller::Handler
{
public:
    class Listener
    {
    public:
        // A whole message (text is valid UTF-8). May call close() on the connection.
        virtual void wsMessage(bool text, std::string_view data) = 0;
        // The client broke the protocol; a close frame with `code` follows.
        virtual void wsError(uint16_t code, const std::string &message) = 0;
        // The connection is gone (handshake done, timed out, reset or failed). Called once.
        virtual void wsClosed() = 0;

    protected:
        ~Listener() = default;
    };

    // What libsoup hands over after the 101 response.
    struct Parts
    {
        GPtr<GIOStream> stream; // what soup_server_message_steal_connection returned
        GPtr<GSocket> socket; // the TCP socket under it
        std::vector<GPtr<SoupWebsocketExtension>> extensions; // negotiated, in order
        bool tls = false; // plain TCP reads and writes the socket directly once drained
    };

    enum class State { open, closing, closed };

    static constexpr std::chrono::seconds kCloseTimeout { 5 }; // as libsoup's

    WsConnection(Parts parts, FdPoller &poller, GMainContext *ctx, uint64_t maxIncomingPayload,
        Listener &listener);
    ~WsConnection();
    WsConnection(const WsConnection &) = delete;
    WsConnection &operator=(const WsConnection &) = delete;

    // Starts watching the socket; the first read happens from the next poller dispatch
    // (bytes the client sent right behind its upgrade request are already buffered).
    void start();

    void sendText(std::string_view text);
    void ping();
    // Queues a close frame behind what is queued and stops sending; the connection ends when
    // the client answers, or after kCloseTimeout.
    void close(uint16_t code, std::string_view reason);

    State state() const noexcept { return state_; }
    bool closeSent() const noexcept { return closeSent_; }
    // The status in the client's close frame; 0 if none arrived or it had none.
    uint16_t peerCloseCode() const noexcept { return peerCode_; }
    // The connection's fd, or -1 once closed.
    int fd() const noexcept { return state_ == State::closed ? -1 : fd_; }
    // Bytes of frames waiting in our queue (not yet taken by the kernel).
    size_t queuedBytes() const noexcept { return out_.size() - outOffset_; }

private:
    void ioReady(uint32_t events) noexcept override;
    void readSome();
    // Parses and handles whole frames of data[0, size); returns the bytes used.
    size_t parse(uint8_t *data, size_t size);
    void handleFrame(uint8_t first, uint8_t *payload, size_t size);
    void handleClose(const uint8_t *payload, size_t size);
    void deliver(std::string_view message);
    void fail(uint16_t code, const std::string &message);
    void queueFrame(uint8_t first, std::string_view payload);
    void flush();
    void terminate(bool notify) noexcept;
    void releaseBuffers() noexcept;
    // The next bytes from the client: > 0 read, 0 end of stream, -1 nothing now, -2 error.
    gssize readInto(uint8_t *buffer, size_t size);
    gssize writeFrom(const char *data, size_t size);

    GPtr<GIOStream> stream_;
    GPtr<GSocket> socket_;
    std::vector<GPtr<SoupWebsocketExtension>> extensions_;
    const bool tls_;
    int fd_;
    FdPoller &poller_;
    GMainContext *ctx_; // borrowed: the server's
    const uint64_t maxIncoming_;
    Listener &listener_;
    uint64_t key_ = 0;
    State state_ = State::open;

    bool rawIo_ = false; // plain TCP and libsoup's read buffer drained: recv/send on fd_
    bool reading_ = true; // false after a close arrived or the input broke the protocol
    bool writeBlocked_ = false;
    bool writeFailed_ = false;
    bool closeSent_ = false;
    bool closeReceived_ = false;
    uint16_t peerCode_ = 0;

    std::string in_; // a partial frame carried over to the next read
    std::string message_; // fragments of the message in progress
    bool inMessage_ = false;
    bool messageText_ = false;
    std::string out_;
    size_t outOffset_ = 0;
    GPtr<GSource> closeTimer_;
};

} // namespace rc::signaling
