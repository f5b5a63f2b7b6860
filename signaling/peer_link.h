// The one thing the room logic needs from a client connection: send text, close.
//
// Implemented by WebSocketPeer (libsoup) and by fakes in the unit tests. The
// room logic borrows links; whoever owns a connection keeps it alive until it
// has told the SignalDispatcher that the connection is closed.
#pragma once

#include <string>

namespace rc::signaling {

class PeerLink
{
public:
    // Queues one text message; ignored once the connection is closing.
    virtual void send(const std::string &text) = 0;
    // Starts the closing handshake with a WebSocket close status.
    virtual void close(unsigned short code, const char *reason) = 0;
    // A short label for log lines ("c12 127.0.0.1:40312").
    virtual const std::string &label() const = 0;

protected:
    ~PeerLink() = default;
};

} // namespace rc::signaling
