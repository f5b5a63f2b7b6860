// How long a TCP peer has sent us nothing, pongs included, from the kernel's TCP_INFO.
//
// libsoup 3.2 answers and sends pings but has no pong timeout and no pong
// signal, so "has not answered for 30 s" is read from the socket instead:
// with a ping every few seconds, a live peer's pongs keep this small.
#pragma once

#include <chrono>
#include <optional>

namespace rc::signaling {

// Milliseconds since data last arrived on the TCP socket fd; nullopt when
// the socket is closed or is not TCP. Safe on any thread.
std::optional<std::chrono::milliseconds> timeSinceLastReceive(int fd) noexcept;

} // namespace rc::signaling
