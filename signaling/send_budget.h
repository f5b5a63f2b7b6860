// How many bytes one connection may have waiting in libsoup's outgoing queue (the spec's
// "Readers keep up"), counted without a syscall on the hot path.
//
// libsoup does not expose its queue, so the queue is bounded from above: the bytes handed to
// libsoup (payload plus WebSocket frame header) minus the bytes the kernel has taken from it.
// The kernel's count is only asked for when the cheap bound (handed minus the last known
// drained count) would pass the limit; a connection that keeps up therefore costs two
// syscalls per `limit` bytes sent, one that stalls a syscall pair per message until it is
// judged. Bytes libsoup writes on its own (pings, pongs, close frames) are not handed here,
// so they make the bound lower than the truth by those few bytes.
//
// Owned by one WebSocketPeer; plain data, thread-bound to the peer's context.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rc::signaling {

class SendBudget
{
public:
    explicit SendBudget(uint64_t limitBytes) noexcept
        : limit_(limitBytes)
    { }

    // Bytes on the wire of one unmasked (server to client) frame with this payload.
    static uint64_t frameBytes(size_t payload) noexcept;

    // Whether a frame fits by the cheap bound; when false, ask the kernel (drained()) and
    // try again before calling the connection too slow.
    bool fits(uint64_t frame) const noexcept { return queued() + frame <= limit_; }
    // The frame was handed to libsoup.
    void handed(uint64_t frame) noexcept { handed_ += frame; }
    // The kernel has taken `taken` bytes of our frames in all (from the connection's
    // baseline); never more than was handed, whatever libsoup wrote on its own.
    void drained(uint64_t taken) noexcept;

    // Upper bound of the bytes still waiting in libsoup's queue.
    uint64_t queued() const noexcept { return handed_ - drained_; }
    uint64_t handedTotal() const noexcept { return handed_; }
    uint64_t limit() const noexcept { return limit_; }

private:
    uint64_t limit_;
    uint64_t handed_ = 0;
    uint64_t drained_ = 0;
};

} // namespace rc::signaling
