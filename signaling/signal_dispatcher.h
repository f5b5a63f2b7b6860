// The protocol's rules for every incoming message: size, rate, which error wins, join, leave,
// forwarding.
//
// Owned by the RoomServer (or a unit test); thread-bound to the server's
// GMainContext. Knows connections only as PeerLinks, so every rule of the
// spec is testable without sockets.
#pragma once

#include "signaling/peer_link.h"
#include "signaling/rate_limiter.h"
#include "signaling/room_registry.h"
#include "signaling/token_verifier.h"

#include <glib.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rc::signaling {

struct DispatchRules
{
    unsigned maxPeersPerRoom = 64; // visible members; 0 for no limit
    RateLimit rateLimit;
    std::optional<std::string> secret; // none: development mode, every join accepted
};

struct Clock
{
    std::function<int64_t()> monotonicUs = [] { return g_get_monotonic_time(); };
    std::function<int64_t()> realSeconds = [] { return g_get_real_time() / G_USEC_PER_SEC; };
};

class SignalDispatcher
{
public:
    explicit SignalDispatcher(const DispatchRules &rules, Clock clock = {});

    // A WebSocket connection was opened; link stays valid until closed(link).
    void opened(PeerLink *link);
    // One text message (already reassembled from its frames).
    void text(PeerLink *link, std::string_view message);
    // One binary message: a protocol error.
    void binary(PeerLink *link, size_t size);
    // The connection is gone for good (closed, reset or timed out): leaves
    // its room and forgets the link. reason is for the log.
    void closed(PeerLink *link, const char *reason);
    // Leaves the room now and ignores everything the connection sends from
    // now on; the caller closes it (dead peer, shutdown).
    void drop(PeerLink *link, const char *reason);

    // The join timeout of a connection has passed: if it has not joined (and is not already
    // closing), join-timeout (with `detail`) and close 4408.
    void joinDeadline(PeerLink *link, const std::string &detail);
    // The connection's outgoing queue would pass its limit (`detail` says by how much):
    // it leaves its room, gets too-slow and is closed with 1013. The caller makes sure the
    // error can still be queued and that this does not run inside a broadcast.
    void tooSlow(PeerLink *link, const std::string &detail);

    // Logs an error noticed outside the protocol rules (a WebSocket protocol
    // violation, a ping timeout) with the connection's room and peer id.
    void logError(PeerLink *link, const char *code, const std::string &message);

    const RoomRegistry &registry() const noexcept { return registry_; }
    size_t connectionCount() const noexcept { return sessions_.size(); }

private:
    struct Session
    {
        RateLimiter limiter;
        std::optional<std::string> peerId;
        bool closing = false;
    };

    Session *session(PeerLink *link);
    bool admit(PeerLink *link, Session &s, size_t size);
    void handleJoin(PeerLink *link, Session &s, JsonObject *object);
    void handleSignal(PeerLink *link, Session &s, protocol::Type type, JsonObject *object);
    void leaveRoom(Session &s, const char *reason);
    void sendError(
        PeerLink *link, const Session &s, protocol::ErrorCode code, const std::string &message);
    void fail(PeerLink *link, Session &s, protocol::ErrorCode code, const std::string &message,
        unsigned short closeCode);
    // fail() for the resource-limit codes that protocol::ErrorCode does not have yet.

    DispatchRules rules_;
    Clock clock_;
    std::optional<TokenVerifier> verifier_;
    RoomRegistry registry_;
    std::unordered_map<PeerLink *, Session> sessions_;
};

} // namespace rc::signaling
