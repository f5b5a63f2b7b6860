// Showing a URL without its secrets; see url_redaction.h.
#include "common/base/url_redaction.h"

#include "common/base/gptr.h"

#include <glib.h>

namespace rc {
namespace {

std::string lower(std::string s)
{
    for (char &c : s)
        c = g_ascii_tolower(c);
    return s;
}

} // namespace

std::string redactUrl(const std::string &url)
{
    auto uri = adopt(g_uri_parse(url.c_str(), G_URI_FLAGS_ENCODED, nullptr));
    if (!uri || !g_uri_get_host(uri.get()))
        return "***";
    std::string out = lower(g_uri_get_scheme(uri.get())) + "://";
    if (g_uri_get_userinfo(uri.get()))
        out += "***@";
    const std::string host = g_uri_get_host(uri.get());
    out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (g_uri_get_port(uri.get()) > 0)
        out += ":" + std::to_string(g_uri_get_port(uri.get()));
    std::string path = g_uri_get_path(uri.get());
    if (!path.empty()) {
        // Keep "/app", hide everything after it (the stream key lives there).
        auto second = path.find('/', 1);
        out += path.substr(0, second);
        if (second != std::string::npos && second + 1 < path.size())
            out += "/***";
        else if (second != std::string::npos)
            out += "/";
    }
    if (g_uri_get_query(uri.get()))
        out += "?***";
    if (g_uri_get_fragment(uri.get()))
        out += "#***";
    return out;
}

} // namespace rc
