// RFC 6455 framing for the room server: the header of a client frame, unmasking, and the
// unmasked frames a server sends. Pure code (no GLib, no sockets), so every rule is unit-tested.
//
// Plain functions and values; used by WsConnection on its context's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rc::signaling::ws {

enum Opcode : uint8_t {
    kContinuation = 0x0,
    kText = 0x1,
    kBinary = 0x2,
    kClose = 0x8,
    kPing = 0x9,
    kPong = 0xa,
};

inline constexpr uint8_t kFin = 0x80;
inline constexpr uint8_t kRsv1 = 0x40; // permessage-deflate's "compressed" bit (RFC 7692)
inline constexpr uint8_t kRsv23 = 0x30;
inline constexpr size_t kMaxControlPayload = 125;

// Close statuses this side uses when a client breaks the protocol.
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseInvalidData = 1007;
inline constexpr uint16_t kCloseTooBig = 1009;

struct FrameHeader
{
    uint8_t first = 0; // FIN, RSV1-3, opcode as received
    uint8_t mask[4] = {};
    uint64_t payloadSize = 0;
    size_t headerSize = 0;

    bool fin() const noexcept { return first & kFin; }
    uint8_t opcode() const noexcept { return first & 0x0f; }
    bool control() const noexcept { return first & 0x08; }
};

enum class HeaderStatus {
    needMore, // fewer bytes than the header (or than its length fields) so far
    ok,
    protocolError, // close 1002: see `error`
    tooBig, // close 1009: a payload past the connection's limit
};

struct HeaderResult
{
    HeaderStatus status = HeaderStatus::needMore;
    FrameHeader header;
    const char *error = ""; // static text, for the log
};

// Reads the header of one frame sent by a client at data[0, size). Checks what does not depend
// on the connection's state: the client's mask (§5.1), a known opcode, control frames
// unfragmented and at most 125 bytes (§5.5), the 64-bit length's top bit (§5.2), and
// maxPayload. RSV bits and fragmentation order are the connection's to check.
HeaderResult parseClientHeader(const uint8_t *data, size_t size, uint64_t maxPayload) noexcept;

// XORs data with the mask; `offset` is the position of data[0] in the frame's payload.
void unmask(uint8_t *data, size_t size, const uint8_t mask[4], uint64_t offset = 0) noexcept;

// Appends one unmasked (server to client) frame: `first` is FIN|RSV|opcode.
void appendFrame(std::string &out, uint8_t first, std::string_view payload);

// The payload of a close frame: the status in network order, then the reason cut to fit 125
// bytes (on a UTF-8 character boundary). Status 0: an empty payload.
std::string closePayload(uint16_t code, std::string_view reason);

// Whether a status may appear in a close frame on the wire (§7.4.1 and the IANA registry):
// 1000-1003, 1007-1014, 3000-4999.
bool validCloseCode(uint16_t code) noexcept;

} // namespace rc::signaling::ws
