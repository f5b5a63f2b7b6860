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

// Creates dir and its missing parents (mode 0750); false with error naming the part that
// failed. Used for the outputs' folders (files, HLS, snapshots).
bool makeDirectories(const std::string &dir, std::string &error);

} // namespace rc
