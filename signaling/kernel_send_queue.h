// How many bytes a TCP socket's kernel side has taken from us so far: acknowledged by the
// peer, plus still in the socket's send buffer (TCP_INFO tcpi_bytes_acked + SIOCOUTQ).
//
// Two syscalls; called only when a connection's cheap queue bound nears its limit.
#pragma once

#include <cstdint>
#include <optional>

namespace rc::signaling {

// Total bytes written into the socket fd since it was opened; nullopt when the socket is
// closed or is not TCP. Safe on any thread.
std::optional<uint64_t> bytesTakenByKernel(int fd) noexcept;

} // namespace rc::signaling
