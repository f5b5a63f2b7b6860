// What the API and the webhooks tell of one participant of a room: a room member or a WHIP
// publisher.
//
// A value type; no thread affinity.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

struct ParticipantInfo
{
    std::string id;
    std::optional<std::string> name;
    std::chrono::system_clock::time_point joinedAt;
    std::vector<std::string> codecs; // negotiated RTP encoding names, e.g. {"VP8", "OPUS"}
    uint64_t receiveBitrateBps = 0; // over the last stats interval
    uint64_t packetsReceived = 0;
    uint64_t packetsLost = 0;
    // The gateway's connection to the participant: "connecting", "connected", "reconnecting",
    // "paused", "ending", or "retrying" (the last attempt failed; another offer follows), and
    // why when it is not simply working (e.g. a TURN server that refused our credential).
    std::string connection = "connecting";
    std::string connectionReason;
    // "room": a member of the room server's room; "whip": a WHIP publisher (whip_sources.h).
    std::string source = "room";
};

} // namespace rc::gateway
