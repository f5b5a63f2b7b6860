// permessage-deflate (RFC 7692) for the room server, with a bound: a compressed message is
// inflated only up to the protocol's size limit plus one byte, so a compression bomb costs at
// most that much memory and work before it is refused as too large.
//
// MessageInflater and compressMessage are pure zlib code with no libsoup; one inflater belongs
// to one WebSocket connection (its DeflateExtension) and lives on that connection's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace rc::signaling {

class MessageInflater
{
public:
    enum class Result {
        more, // a fragment was taken; the message goes on
        done, // the message is complete: take()
        tooLarge, // more than limit bytes: the rest is not inflated
        corrupt, // not a valid raw DEFLATE stream
    };

    // limit: the largest message accepted, counted after inflation. Without context takeover
    // (the server asks for client_no_context_takeover), each message is a fresh stream, so no
    // zlib state (about 40 KiB with its window) is kept between messages.
    explicit MessageInflater(size_t limit);
    ~MessageInflater();
    MessageInflater(const MessageInflater &) = delete;
    MessageInflater &operator=(const MessageInflater &) = delete;

    // One frame's compressed payload; last = the message's final frame. After tooLarge or
    // corrupt, later frames of the same message are ignored (and return the same result).
    Result feed(std::string_view compressed, bool last);
    // The inflated message (after done), and the inflater is ready for the next message.
    std::string take();
    // Bytes of inflated output produced by the message so far.
    size_t produced() const noexcept { return out_.size(); }

private:
    struct Stream;
    void reset() noexcept;

    size_t limit_;
    std::unique_ptr<Stream> stream_; // only while a message is being inflated
    std::string out_;
    Result state_ = Result::more;
};

// One message compressed as a permessage-deflate payload without context takeover (raw
// DEFLATE, sync flush, the final 00 00 ff ff removed). windowBits 9..15.
std::string compressMessage(std::string_view message, int windowBits = 15);

} // namespace rc::signaling
