// Which ICE candidates a member may act on without any traffic nobody configured: a candidate
// whose connection address is a host name (an mDNS ".local" name, or any DNS name) would make
// the ICE agent resolve it, sending mDNS to 224.0.0.251 or a DNS query to the host's resolver
// on a peer's say-so. Members that must send only configured traffic keep IP literals only.
//
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace rc::protocol {

// The connection address of an ICE candidate attribute ("candidate:<foundation> <component>
// <transport> <priority> <address> <port> typ ..."; an "a=" prefix is allowed); "" when the
// text has no such field.
std::string candidateAddress(std::string_view candidate);
// Whether that address is an IPv4 or IPv6 literal (nothing to resolve).
bool candidateHasIpAddress(std::string_view candidate);
// The SDP without its a=candidate lines whose address is not an IP literal; *removed (if
// given) counts them. Line endings are kept as they were.
std::string withoutHostnameCandidates(const std::string &sdp, int *removed = nullptr);

} // namespace rc::protocol
