// Outgoing queue accounting; see send_budget.h.
#include "signaling/send_budget.h"

#include <algorithm>

namespace rc::signaling {

uint64_t SendBudget::frameBytes(size_t payload) noexcept
{
    // RFC 6455 §5.2: 7-bit length, or 126 + 16 bits, or 127 + 64 bits; no mask from a server.
    const uint64_t header = payload < 126 ? 2 : payload < 65536 ? 4 : 10;
    return header + payload;
}

void SendBudget::drained(uint64_t taken) noexcept
{
    // The kernel's count only grows, but keep ours monotonic anyway: a failed or stale
    // query must never make the queue look longer than it was.
    drained_ = std::max(drained_, std::min(taken, handed_));
}

} // namespace rc::signaling
