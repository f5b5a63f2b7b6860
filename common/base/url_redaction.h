// A URL made safe to show in the API, logs and webhooks: RTMP stream keys and credentials hidden.
#pragma once

#include <string>

namespace rc {

// Scheme, host, port and the first path segment; user info, further segments (RTMP stream
// keys), query and fragment become "***". Not a URL at all: "***". Pure; any thread.
std::string redactUrl(const std::string &url);

} // namespace rc
