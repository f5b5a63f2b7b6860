// The one thing a room's logic needs from its room-server connection: join, hear what the
// room says, send, leave. The seam between a room and the network.
//
// Implemented by SignalingClient (libsoup WebSocket, reconnecting) and by fakes in unit
// tests, as signaling/peer_link.h is on the server's side. Thread-bound: created, used and
// destroyed on the thread of the GMainContext its implementation was given; every callback
// runs there. Owned by whoever represents the membership.
#pragma once

#include "common/protocol/room_protocol.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace rc {

class RoomLink
{
public:
    struct Callbacks
    {
        // After every successful join, the first and each rejoin.
        std::function<void(const protocol::Welcome &)> onWelcome;
        // Every other server message (peer-joined, peer-left, offer, answer,
        // candidate, recording, non-fatal error).
        std::function<void(const protocol::ServerMessage &)> onMessage;
        // The connection is gone (a reconnect may follow).
        std::function<void(const std::string &reason)> onDisconnected;
        // The server refused us for good (unauthorized, room-full): no reconnect.
        std::function<void(const std::string &code, const std::string &message)> onFatal;
    };

    virtual ~RoomLink() = default;

    // Connects and joins; rejoins by itself after a drop where the implementation reconnects.
    virtual void start() = 0;
    // Sends leave if joined, closes, and stops reconnecting.
    virtual void stop() = 0;
    // Queues one text message; false when not joined.
    virtual bool send(const std::string &text) = 0;
    // The token for the next join; the current membership is unaffected.
    virtual void setJoinToken(std::optional<std::string> token) = 0;
};

// Makes the link a room joins with (join: room, hidden, token). The application binds the
// server URL and its main context; tests return a fake.
using RoomLinkFactory
    = std::function<std::unique_ptr<RoomLink>(protocol::Join join, RoomLink::Callbacks callbacks)>;

} // namespace rc
