// Which browser origins may call the control API (CORS), and the headers that say so.
//
// A plain value owned by ControlApi (copied from ControlApiConfig); thread-agnostic, no I/O.
// Origins come from --cors-origin / cors-origin (repeatable): "scheme://host[:port]" as a
// browser sends it in the Origin header, or "*" for any origin. None (the default) means no
// CORS headers at all, so a page on another origin cannot read any answer.
#pragma once

#include <string>
#include <vector>

namespace rc::ops {

class CorsPolicy
{
public:
    CorsPolicy() = default;
    // origins must each pass isValidOrigin (checked at start-up by the options).
    explicit CorsPolicy(std::vector<std::string> origins);

    // "*", or http(s)://host[:port] with no path, query, userinfo or trailing slash: exactly
    // the serialisation a browser puts in Origin (RFC 6454), compared byte for byte. why says
    // what is wrong.
    static bool isValidOrigin(const std::string &origin, std::string &why);

    bool enabled() const noexcept { return !origins_.empty(); }
    // Whether a request with this Origin header value ("" when absent) gets CORS headers.
    bool allows(const std::string &origin) const;

    // The answers' fixed parts (what browsers may send us and read from us).
    static constexpr const char *allowMethods = "GET, HEAD, POST, PATCH, DELETE, OPTIONS";
    static constexpr const char *allowHeaders = "Authorization, Content-Type";
    static constexpr const char *exposeHeaders = "Location";
    static constexpr const char *maxAgeSeconds = "600";

private:
    std::vector<std::string> origins_;
    bool any_ = false;
};

} // namespace rc::ops
