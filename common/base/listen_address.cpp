// HOST:PORT parsing for the daemons' listening sockets; see listen_address.h.
#include "common/base/listen_address.h"

#include "common/base/gptr.h"

#include <charconv>

namespace rc {
namespace {

bool parsePort(const std::string &text, uint16_t &port)
{
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value > 65535)
        return false;
    port = static_cast<uint16_t>(value);
    return true;
}

bool isAddressOfFamily(const std::string &text, GSocketFamily family)
{
    auto addr = adopt(g_inet_address_new_from_string(text.c_str()));
    return addr && g_inet_address_get_family(addr.get()) == family;
}

} // namespace

bool parseListenAddress(const std::string &text, std::string &host, uint16_t &port)
{
    std::string h, p;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return false;
        h = text.substr(1, close - 1);
        p = text.substr(close + 2);
        if (!isAddressOfFamily(h, G_SOCKET_FAMILY_IPV6))
            return false;
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos || colon == 0)
            return false;
        h = text.substr(0, colon);
        p = text.substr(colon + 1);
        if (h != "localhost" && !isAddressOfFamily(h, G_SOCKET_FAMILY_IPV4))
            return false;
    }
    if (!parsePort(p, port))
        return false;
    host = h;
    return true;
}

bool isLoopbackHost(const std::string &host)
{
    auto addr
        = adopt(g_inet_address_new_from_string(host == "localhost" ? "127.0.0.1" : host.c_str()));
    return addr && g_inet_address_get_is_loopback(addr.get());
}

} // namespace rc
