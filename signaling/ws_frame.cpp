// RFC 6455 frame header parsing and frame building; see ws_frame.h.
#include "signaling/ws_frame.h"

#include <cstring>

namespace rc::signaling::ws {

HeaderResult parseClientHeader(const uint8_t *data, size_t size, uint64_t maxPayload) noexcept
{
    HeaderResult r;
    if (size < 2)
        return r;
    FrameHeader &h = r.header;
    h.first = data[0];
    const bool masked = data[1] & 0x80;
    uint64_t length = data[1] & 0x7f;
    size_t at = 2;
    if (length == 126) {
        if (size < at + 2)
            return r;
        length = (uint64_t(data[2]) << 8) | data[3];
        at += 2;
    } else if (length == 127) {
        if (size < at + 8)
            return r;
        length = 0;
        for (int i = 0; i < 8; ++i)
            length = (length << 8) | data[at + i];
        at += 8;
        if (length >> 63) {
            r.status = HeaderStatus::protocolError;
            r.error = "the most significant bit of a 64-bit length is set";
            return r;
        }
    }
    if (masked) {
        if (size < at + 4)
            return r;
        std::memcpy(h.mask, data + at, 4);
        at += 4;
    }
    h.payloadSize = length;
    h.headerSize = at;
    r.status = HeaderStatus::protocolError;
    switch (h.opcode()) {
    case kContinuation:
    case kText:
    case kBinary:
    case kClose:
    case kPing:
    case kPong:
        break;
    default:
        r.error = "unknown opcode";
        return r;
    }
    if (!masked) {
        r.error = "a client frame without a mask";
        return r;
    }
    if (h.control() && (!h.fin() || length > kMaxControlPayload)) {
        r.error = "a fragmented or oversize control frame";
        return r;
    }
    if (length > maxPayload) {
        r.status = HeaderStatus::tooBig;
        r.error = "a frame past the connection's payload limit";
        return r;
    }
    r.status = HeaderStatus::ok;
    r.error = "";
    return r;
}

void unmask(uint8_t *data, size_t size, const uint8_t mask[4], uint64_t offset) noexcept
{
    size_t i = 0;
    // Word at a time once the mask is aligned to the payload position.
    while (i < size && ((offset + i) & 3) != 0) {
        data[i] ^= mask[(offset + i) & 3];
        ++i;
    }
    uint32_t word;
    std::memcpy(&word, mask, 4);
    for (; i + 4 <= size; i += 4) {
        uint32_t v;
        std::memcpy(&v, data + i, 4);
        v ^= word;
        std::memcpy(data + i, &v, 4);
    }
    for (; i < size; ++i)
        data[i] ^= mask[(offset + i) & 3];
}

void appendFrame(std::string &out, uint8_t first, std::string_view payload)
{
    const uint64_t n = payload.size();
    char header[10];
    size_t len = 0;
    header[len++] = static_cast<char>(first);
    if (n < 126) {
        header[len++] = static_cast<char>(n);
    } else if (n < 65536) {
        header[len++] = 126;
        header[len++] = static_cast<char>(n >> 8);
        header[len++] = static_cast<char>(n & 0xff);
    } else {
        header[len++] = 127;
        for (int shift = 56; shift >= 0; shift -= 8)
            header[len++] = static_cast<char>((n >> shift) & 0xff);
    }
    out.append(header, len);
    out.append(payload.data(), payload.size());
}

std::string closePayload(uint16_t code, std::string_view reason)
{
    std::string p;
    if (code == 0)
        return p;
    p += static_cast<char>(code >> 8);
    p += static_cast<char>(code & 0xff);
    size_t keep = reason.size() < kMaxControlPayload - 2 ? reason.size() : kMaxControlPayload - 2;
    // Never cut a UTF-8 sequence: step back over continuation bytes.
    if (keep < reason.size())
        while (keep > 0 && (static_cast<uint8_t>(reason[keep]) & 0xc0) == 0x80)
            --keep;
    p.append(reason.substr(0, keep));
    return p;
}

bool validCloseCode(uint16_t code) noexcept
{
    if (code >= 3000 && code < 5000)
        return true;
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

} // namespace rc::signaling::ws
