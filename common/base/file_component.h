// One safe path component from untrusted text (room and participant ids, template names).
//
// Pure function, safe on any thread.
#pragma once

#include <string>
#include <string_view>

namespace rc {

// [A-Za-z0-9._-] only (anything else becomes '_'), no leading '.', never empty
// ("_" for empty input), at most 64 characters. Never "." or "..".
std::string sanitizeFileComponent(std::string_view s);

} // namespace rc
