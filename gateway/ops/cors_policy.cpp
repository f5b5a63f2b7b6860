// CORS origin checks for the control API; see cors_policy.h.
#include "gateway/ops/cors_policy.h"

#include <algorithm>
#include <cctype>

namespace rc::ops {

CorsPolicy::CorsPolicy(std::vector<std::string> origins)
    : origins_(std::move(origins))
{
    any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool CorsPolicy::isValidOrigin(const std::string &origin, std::string &why)
{
    if (origin == "*")
        return true;
    std::string rest;
    if (origin.rfind("http://", 0) == 0)
        rest = origin.substr(7);
    else if (origin.rfind("https://", 0) == 0)
        rest = origin.substr(8);
    else {
        why = "'" + origin + "' is not an origin: use scheme://host[:port] (http or https), or *";
        return false;
    }
    if (rest.empty()) {
        why = "'" + origin + "' has no host";
        return false;
    }
    // Browsers serialise an origin without path or trailing slash, lower-case; a configured
    // value that differs would never match, so it is refused rather than silently useless.
    if (rest.find_first_of("/?#@") != std::string::npos) {
        why = "'" + origin + "' is not an origin: no path, query, user or trailing '/'";
        return false;
    }
    std::string host = rest, port;
    if (host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string::npos || close == 1) {
            why = "'" + origin + "' has a malformed IPv6 host";
            return false;
        }
        port = close + 1 < host.size() ? host.substr(close + 1) : "";
        host = host.substr(0, close + 1);
        if (!port.empty() && port.front() != ':') {
            why = "'" + origin + "' has junk after the host";
            return false;
        }
        if (!port.empty())
            port = port.substr(1);
    } else if (const auto colon = host.find(':'); colon != std::string::npos) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
        if (port.empty()) {
            why = "'" + origin + "' has an empty port";
            return false;
        }
    }
    for (char c : host) {
        const bool ok = std::islower(static_cast<unsigned char>(c))
            || std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '['
            || c == ']' || c == ':';
        if (!ok) {
            why = "'" + origin + "': the host must be lower-case letters, digits, '.' and '-'";
            return false;
        }
    }
    if (!port.empty()) {
        if (port.size() > 5
            || !std::all_of(port.begin(), port.end(),
                [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })
            || std::stoul(port) == 0 || std::stoul(port) > 65535 || port.front() == '0') {
            why = "'" + origin + "' has a bad port (1-65535, no leading zero)";
            return false;
        }
    }
    return true;
}

bool CorsPolicy::allows(const std::string &origin) const
{
    if (origin.empty() || origins_.empty())
        return false;
    return any_ || std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

} // namespace rc::ops
