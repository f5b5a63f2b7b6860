// Parsing of HOST:PORT listen addresses ("127.0.0.1:8080", "[::1]:0", "localhost:80").
#pragma once

#include <cstdint>
#include <string>

namespace rc {

// IPv4 literal or "localhost", or a bracketed IPv6 literal, then ':' and a
// port 0-65535 (0 = ephemeral). Host names other than localhost are refused
// so that a listen address never depends on name resolution.
bool parseListenAddress(const std::string &text, std::string &host, uint16_t &port);

// Whether host (an address literal or "localhost") is a loopback address.
bool isLoopbackHost(const std::string &host);

} // namespace rc
