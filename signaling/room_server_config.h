// Everything a RoomServer is built from; filled by signal_options or by an embedding program.
#pragma once

#include "signaling/signal_dispatcher.h"

#include <chrono>
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
    // libsoup sends a ping this often (whole seconds); a peer that sent
    // nothing, pongs included, for peerTimeout is treated as gone.
    std::chrono::seconds pingInterval { 10 };
    std::chrono::milliseconds peerTimeout { 30000 };
    // libsoup's own per-frame limit, far above the protocol's 65536 so that
    // oversize messages reach us and get a "too-large" answer instead of a
    // silent reset. Frames past this are still reset by libsoup.
    uint64_t transportPayloadLimit = 4 * 1024 * 1024;
};

} // namespace rc::signaling
