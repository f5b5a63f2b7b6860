// Everything a RoomServer is built from; filled by signal_options or by an embedding program.
#pragma once

#include "signaling/signal_dispatcher.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace rc::signaling {

struct RoomServerConfig
{
    // An IP literal ("127.0.0.1", "::1", "0.0.0.0", "::"); port 0 picks a free one.
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    DispatchRules rules;
    std::string staticDir; // empty: nothing but /ws is served
    // PEM files: when both are set the server speaks HTTPS and WSS only (reloaded on SIGHUP).
    std::string tlsCertificateFile, tlsKeyFile;
    // libsoup sends a ping this often (whole seconds); a peer that sent
    // nothing, pongs included, for peerTimeout is treated as gone.
    std::chrono::seconds pingInterval { 10 };
    std::chrono::milliseconds peerTimeout { 30000 };
    // libsoup's own per-frame limit, far above the protocol's 65536 so that
    // oversize messages reach us and get a "too-large" answer instead of a
    // silent reset. Frames past this are still reset by libsoup.
    uint64_t transportPayloadLimit = 4 * 1024 * 1024;

    // The spec's "Resource limits". A WebSocket that has not joined joinTimeout after its
    // handshake gets join-timeout and 4408; an HTTP connection that has not sent a whole
    // request joinTimeout after it opened (or after its previous response, when kept alive)
    // is dropped.
    std::chrono::milliseconds joinTimeout { 10000 };
    // Most bytes of messages waiting in libsoup's queue for one connection; past it the
    // connection gets too-slow and 1013. At least kMinQueuedBytes, so that the largest
    // forwarded message always fits in an empty queue.
    uint64_t maxQueuedBytes = 1024 * 1024;
    // Most WebSocket connections at once (joined or not, closing ones included); an upgrade
    // past it is answered 503. 0: no cap. 1000 x maxQueuedBytes bounds the queued memory
    // at 1 GiB and stays under the usual 1024 open files.
    size_t maxConnections = 1000;
};

// A forwarded message is at most the protocol's 65536 bytes plus the server's "from" and
// "hidden"; twice that leaves room for one such message next to smaller ones.
inline constexpr uint64_t kMinQueuedBytes = 2 * 65536;

} // namespace rc::signaling
