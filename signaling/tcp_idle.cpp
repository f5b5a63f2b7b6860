// TCP_INFO query; see tcp_idle.h.
#include "signaling/tcp_idle.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace rc::signaling {

std::optional<std::chrono::milliseconds> timeSinceLastReceive(int fd) noexcept
{
    if (fd < 0)
        return std::nullopt;
    struct tcp_info info
    {
    };
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
        return std::nullopt;
    return std::chrono::milliseconds(info.tcpi_last_data_recv);
}

} // namespace rc::signaling
