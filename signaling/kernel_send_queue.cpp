// TCP_INFO and SIOCOUTQ queries; see kernel_send_queue.h.
#include "signaling/kernel_send_queue.h"

// <linux/tcp.h>, not glibc's <netinet/tcp.h>: only the kernel's header has tcpi_bytes_acked
// (Linux 4.1), and the two cannot be included together.
#include <cstddef>

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace rc::signaling {

std::optional<uint64_t> bytesTakenByKernel(int fd) noexcept
{
    if (fd < 0)
        return std::nullopt;
    struct tcp_info info
    {
    };
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0
        || len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked)
        return std::nullopt;
    int unsentOrUnacked = 0; // write_seq - snd_una: in the send buffer, not yet acked
    if (ioctl(fd, SIOCOUTQ, &unsentOrUnacked) != 0 || unsentOrUnacked < 0)
        return std::nullopt;
    return info.tcpi_bytes_acked + static_cast<uint64_t>(unsentOrUnacked);
}

} // namespace rc::signaling
