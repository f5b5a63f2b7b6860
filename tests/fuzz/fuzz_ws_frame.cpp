// libFuzzer target: the room server's own RFC 6455 framing (signaling/ws_frame) on arbitrary
// bytes, read as a client's stream of frames: the header parser must stay inside the input and
// inside its rules, and what the server writes must read back the same once masked.
#include "signaling/ws_frame.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace ws = rc::signaling::ws;

namespace {

constexpr uint64_t kMaxPayload = 64 * 1024;

void check(bool ok)
{
    if (!ok)
        std::abort();
}

// A server frame with the payload `text`, masked as a client would send it, parses back to it.
void roundTrip(uint8_t first, const std::string &text, const uint8_t mask[4])
{
    std::string frame;
    ws::appendFrame(frame, first, text);
    check(frame.size() >= 2 && !(static_cast<uint8_t>(frame[1]) & 0x80)); // servers never mask
    std::vector<uint8_t> masked(frame.begin(), frame.end());
    const size_t header = frame.size() - text.size();
    masked[1] |= 0x80;
    masked.insert(masked.begin() + static_cast<long>(header), mask, mask + 4);
    ws::unmask(masked.data() + header + 4, text.size(), mask); // masking is the same XOR
    const auto r = ws::parseClientHeader(masked.data(), masked.size(), kMaxPayload);
    check(r.status == ws::HeaderStatus::ok);
    check(r.header.headerSize == header + 4 && r.header.payloadSize == text.size());
    check(r.header.first == first);
    uint8_t *payload = masked.data() + r.header.headerSize;
    ws::unmask(payload, text.size(), mask);
    check(std::string(reinterpret_cast<char *>(payload), text.size()) == text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::vector<uint8_t> stream(data, data + size);
    size_t at = 0;
    while (at < stream.size()) {
        const size_t left = stream.size() - at;
        const auto r = ws::parseClientHeader(stream.data() + at, left, kMaxPayload);
        if (r.status != ws::HeaderStatus::ok)
            break; // needMore, or a close the connection would send
        const ws::FrameHeader &h = r.header;
        check(h.headerSize >= 6 && h.headerSize <= 14 && h.headerSize <= left); // masked: +4
        check(h.payloadSize <= kMaxPayload);
        if (h.control())
            check(h.fin() && h.payloadSize <= ws::kMaxControlPayload);
        const size_t available = left - h.headerSize;
        const size_t take
            = h.payloadSize < available ? static_cast<size_t>(h.payloadSize) : available;
        // Unmasking in two pieces at an offset equals unmasking at once.
        std::vector<uint8_t> once(stream.begin() + static_cast<long>(at + h.headerSize),
            stream.begin() + static_cast<long>(at + h.headerSize + take));
        std::vector<uint8_t> split = once;
        ws::unmask(once.data(), once.size(), h.mask);
        const size_t half = split.size() / 2;
        ws::unmask(split.data(), half, h.mask);
        ws::unmask(split.data() + half, split.size() - half, h.mask, half);
        check(once == split);
        if (h.opcode() == ws::kClose && take >= 2) {
            const uint16_t code = static_cast<uint16_t>(once[0] << 8 | once[1]);
            std::string reason(once.begin() + 2, once.end());
            const std::string payload = ws::closePayload(code, reason);
            check(payload.size() <= ws::kMaxControlPayload);
            (void)ws::validCloseCode(code);
        }
        if (take < ws::kMaxControlPayload)
            roundTrip(static_cast<uint8_t>(ws::kFin | ws::kText),
                std::string(once.begin(), once.end()), h.mask);
        at += h.headerSize + take;
        if (take < h.payloadSize)
            break; // the rest of this frame has not arrived
    }
    // Any length the server writes (the three length encodings) reads back.
    if (size >= 4) {
        const size_t n = (static_cast<size_t>(data[0]) << 8 | data[1])
            % 65536; // the three length encodings, all within kMaxPayload
        roundTrip(static_cast<uint8_t>(ws::kFin | ws::kBinary), std::string(n, 'x'), data);
    }
    return 0;
}
