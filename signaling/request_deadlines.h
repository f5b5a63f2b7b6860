// Drops HTTP connections that do not send a whole request in time: the spec's "a plain TCP
// connection that never completes the WebSocket handshake is dropped", and idle keep-alive
// connections after a served static file.
//
// libsoup 3.2 emits SoupServer::request-started as soon as it accepts a connection (with a
// blank message, before any byte is read), but on a kept-alive connection only when the first
// byte of the next request arrives; request-read once a request is complete, before any
// handler; request-finished once a response is written. So a deadline runs from
// request-started, or from request-finished for a kept-alive connection, to request-read: a
// response in progress is never cut, and a connection that sends nothing, or half a request,
// is shut down (g_socket_shutdown, after which libsoup's own read fails and it tears the
// connection down itself). A blank message that never gets a request line gets no
// request-finished or request-aborted, so each deadline is object data of its message (or,
// between kept-alive requests, of the socket) and dies with it.
//
// Owned by the RoomServer; thread-bound to the server's GMainContext. The deadlines it starts
// hold no pointer to it, only their socket.
#pragma once

#include "common/base/gptr.h"
#include "common/base/soup_ptr.h"

#include <chrono>

namespace rc::signaling {

class RequestDeadlines
{
public:
    // server is borrowed and must outlive this object; deadlines run on ctx.
    RequestDeadlines(SoupServer *server, GMainContext *ctx, std::chrono::milliseconds timeout);
    ~RequestDeadlines() = default;
    RequestDeadlines(const RequestDeadlines &) = delete;
    RequestDeadlines &operator=(const RequestDeadlines &) = delete;

private:
    static void onRequestStarted(
        SoupServer *server, SoupServerMessage *msg, gpointer self) noexcept;
    static void onRequestRead(SoupServer *server, SoupServerMessage *msg, gpointer self) noexcept;
    static void onRequestFinished(
        SoupServer *server, SoupServerMessage *msg, gpointer self) noexcept;

    GMainContext *ctx_; // borrowed: the server's
    std::chrono::milliseconds timeout_;
    SignalConnection started_;
    SignalConnection read_;
    SignalConnection finished_;
};

} // namespace rc::signaling
