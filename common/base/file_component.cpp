// One safe path component from untrusted text.
#include "common/base/file_component.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <sys/stat.h>

namespace rc {

std::string sanitizeFileComponent(std::string_view s)
{
    std::string out;
    out.reserve(std::min<size_t>(s.size(), 64));
    for (char c : s) {
        if (out.size() == 64)
            break;
        bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || c == '.' || c == '_' || c == '-';
        out += safe ? c : '_';
    }
    if (out.empty())
        return "_";
    // No hidden files, and never "." or "..": a leading dot becomes '_'.
    if (out[0] == '.')
        out[0] = '_';
    return out;
}

bool makeDirectories(const std::string &dir, std::string &error)
{
    std::string partial;
    for (const auto &part : std::filesystem::path(dir)) {
        partial = (std::filesystem::path(partial) / part).string();
        if (part == "/" || partial.empty())
            continue;
        if (::mkdir(partial.c_str(), 0750) != 0 && errno != EEXIST) {
            error = "cannot create " + partial + ": " + std::strerror(errno);
            return false;
        }
    }
    return true;
}

} // namespace rc
