// Makes untrusted text (names, error details) safe to put in one log line.
#pragma once

#include <string>
#include <string_view>

namespace rc::signaling {

// Escapes control characters, quotes and invalid UTF-8 as \xNN and cuts the
// result to about maxBytes, so a client can neither forge nor split log lines.
std::string printable(std::string_view text, size_t maxBytes = 160);

} // namespace rc::signaling
