// RFC 6455 framing of the room server: client frame headers, unmasking, server frames and
// close payloads.
#include "signaling/send_budget.h"
#include "signaling/ws_frame.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace ws = rc::signaling::ws;

namespace {

// A client frame: masked with `mask`, payload masked too.
std::vector<uint8_t> clientFrame(
    uint8_t first, const std::string &payload, const uint8_t mask[4] = nullptr, bool masked = true)
{
    static const uint8_t kMask[4] = { 0x11, 0x22, 0x33, 0x44 };
    const uint8_t *m = mask ? mask : kMask;
    std::vector<uint8_t> f { first };
    const uint64_t n = payload.size();
    const uint8_t maskBit = masked ? 0x80 : 0;
    if (n < 126) {
        f.push_back(maskBit | uint8_t(n));
    } else if (n < 65536) {
        f.push_back(maskBit | 126);
        f.push_back(uint8_t(n >> 8));
        f.push_back(uint8_t(n));
    } else {
        f.push_back(maskBit | 127);
        for (int s = 56; s >= 0; s -= 8)
            f.push_back(uint8_t(n >> s));
    }
    if (masked)
        f.insert(f.end(), m, m + 4);
    for (size_t i = 0; i < payload.size(); ++i)
        f.push_back(uint8_t(payload[i]) ^ (masked ? m[i % 4] : 0));
    return f;
}

ws::HeaderResult parse(
    const std::vector<uint8_t> &f, size_t size = SIZE_MAX, uint64_t max = 1 << 20)
{
    return ws::parseClientHeader(f.data(), std::min(size, f.size()), max);
}

} // namespace

TEST_CASE("a masked text frame is parsed and unmasked")
{
    auto f = clientFrame(ws::kFin | ws::kText, "hello");
    auto r = parse(f);
    REQUIRE(r.status == ws::HeaderStatus::ok);
    CHECK(r.header.fin());
    CHECK(r.header.opcode() == ws::kText);
    CHECK_FALSE(r.header.control());
    CHECK(r.header.payloadSize == 5);
    CHECK(r.header.headerSize == 6);
    ws::unmask(f.data() + 6, 5, r.header.mask);
    CHECK(std::string(f.begin() + 6, f.end()) == "hello");
}

TEST_CASE("a header cut anywhere needs more bytes")
{
    for (const std::string &payload :
        { std::string(10, 'a'), std::string(300, 'b'), std::string(70000, 'c') }) {
        auto f = clientFrame(ws::kFin | ws::kText, payload);
        const size_t header = f.size() - payload.size();
        for (size_t cut = 0; cut < header; ++cut) {
            INFO("payload " << payload.size() << ", cut at " << cut);
            CHECK(parse(f, cut).status == ws::HeaderStatus::needMore);
        }
        auto r = parse(f, header);
        REQUIRE(r.status == ws::HeaderStatus::ok);
        CHECK(r.header.payloadSize == payload.size());
        CHECK(r.header.headerSize == header);
    }
}

TEST_CASE("what a server must refuse from a client is a protocol error")
{
    SECTION("no mask (5.1)")
    {
        CHECK(parse(clientFrame(ws::kFin | ws::kText, "x", nullptr, false)).status
            == ws::HeaderStatus::protocolError);
    }
    SECTION("unknown opcodes")
    {
        for (uint8_t op : { 0x3, 0x7, 0xb, 0xf })
            CHECK(parse(clientFrame(ws::kFin | op, "x")).status == ws::HeaderStatus::protocolError);
    }
    SECTION("a fragmented control frame, or one over 125 bytes (5.5)")
    {
        CHECK(parse(clientFrame(ws::kPing, "x")).status == ws::HeaderStatus::protocolError);
        CHECK(parse(clientFrame(ws::kFin | ws::kClose, std::string(126, 'x'))).status
            == ws::HeaderStatus::protocolError);
        CHECK(parse(clientFrame(ws::kFin | ws::kPing, std::string(125, 'x'))).status
            == ws::HeaderStatus::ok);
    }
    SECTION("a 64-bit length with its top bit set (5.2)")
    {
        std::vector<uint8_t> f { ws::kFin | ws::kText, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2,
            3, 4 };
        CHECK(parse(f).status == ws::HeaderStatus::protocolError);
    }
}

TEST_CASE("a frame past the payload limit is too big, at the limit it is not")
{
    auto f = clientFrame(ws::kFin | ws::kBinary, std::string(1000, 'z'));
    CHECK(parse(f, SIZE_MAX, 1000).status == ws::HeaderStatus::ok);
    CHECK(parse(f, SIZE_MAX, 999).status == ws::HeaderStatus::tooBig);
}

TEST_CASE("unmasking from any offset gives the same bytes as one pass")
{
    const uint8_t mask[4] = { 0xde, 0xad, 0xbe, 0xef };
    std::string text;
    for (int i = 0; i < 1000; ++i)
        text += char('a' + i % 26);
    auto f = clientFrame(ws::kFin | ws::kText, text, mask);
    const size_t header = f.size() - text.size();
    for (size_t split : { 0, 1, 2, 3, 5, 7, 500, 999 }) {
        auto g = f;
        uint8_t *p = g.data() + header;
        ws::unmask(p, split, mask, 0);
        ws::unmask(p + split, text.size() - split, mask, split);
        INFO("split at " << split);
        CHECK(std::string(p, p + text.size()) == text);
    }
}

TEST_CASE("server frames are unmasked with the shortest length, as SendBudget counts them")
{
    for (size_t n : { 0, 1, 125, 126, 65535, 65536, 200000 }) {
        std::string out;
        ws::appendFrame(out, ws::kFin | ws::kText, std::string(n, 'q'));
        INFO("payload " << n);
        CHECK(out.size() == rc::signaling::SendBudget::frameBytes(n));
        CHECK(uint8_t(out[0]) == (ws::kFin | ws::kText));
        CHECK((uint8_t(out[1]) & 0x80) == 0);
    }
}

TEST_CASE("a close payload is the status then a reason cut on a character boundary")
{
    CHECK(ws::closePayload(0, "ignored").empty());
    CHECK(ws::closePayload(1013, "too-slow") == std::string("\x03\xf5too-slow", 10));
    // 61 two-byte characters are 122 bytes; one more would pass 123.
    std::string reason;
    for (int i = 0; i < 70; ++i)
        reason += "\xc3\xa9";
    const std::string p = ws::closePayload(4408, reason);
    CHECK(p.size() == 2 + 122);
    CHECK(p.size() <= ws::kMaxControlPayload);
    CHECK(p.substr(2) == reason.substr(0, 122));
}

TEST_CASE("close statuses that may appear on the wire")
{
    for (uint16_t ok : { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 1013, 3000, 4408, 4999 })
        CHECK(ws::validCloseCode(ok));
    for (uint16_t bad : { 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000 })
        CHECK_FALSE(ws::validCloseCode(bad));
}
