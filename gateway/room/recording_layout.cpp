// Paths of a session's recordings and their collision-free naming; see recording_layout.h.
#include "gateway/room/recording_layout.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sys/stat.h>
#include <sys/statvfs.h>

namespace rc::gateway {

std::string sessionStamp(std::chrono::system_clock::time_point t)
{
    std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc {};
    gmtime_r(&seconds, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &utc);
    return buf;
}

RecordingLayout::RecordingLayout(
    std::string recordingsDir, std::string room, std::chrono::system_clock::time_point sessionStart)
{
    std::filesystem::path base(recordingsDir.empty() ? std::string(".") : recordingsDir);
    sessionDir_ = (base / sanitizeFileComponent(room) / sessionStamp(sessionStart)).string();
    handedOut_.insert(manifestPath());
}

const std::string &RecordingLayout::sessionDir() const
{
    return sessionDir_;
}

bool RecordingLayout::ensureSessionDir(std::string &error)
{
    // mkdir -p by hand so that every folder we create gets 0750 (umask permitting).
    std::filesystem::path dir(sessionDir_);
    std::filesystem::path partial;
    for (const auto &part : dir) {
        partial /= part;
        if (part.empty() || part == "/" || part == ".")
            continue;
        if (::mkdir(partial.c_str(), 0750) == 0)
            continue;
        int err = errno;
        struct stat st
        {
        };
        if (err == EEXIST && ::stat(partial.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            continue;
        error = "cannot create " + partial.string() + ": "
            + std::strerror(err == EEXIST ? ENOTDIR : err);
        return false;
    }
    return true;
}

std::string RecordingLayout::freshPath(const std::string &stem, const std::string &extension)
{
    std::string base = sanitizeFileComponent(stem);
    std::string ext = sanitizeFileComponent(extension);
    for (unsigned n = 1;; ++n) {
        std::string name = n == 1 ? base + "." + ext : base + "-" + std::to_string(n) + "." + ext;
        std::string path = (std::filesystem::path(sessionDir_) / name).string();
        std::error_code ec;
        if (handedOut_.count(path)
            || std::filesystem::exists(std::filesystem::symlink_status(path, ec)))
            continue;
        handedOut_.insert(path);
        return path;
    }
}

std::string RecordingLayout::participantFile(
    const std::string &participantId, const std::string &extension)
{
    return freshPath(participantId, extension);
}

std::string RecordingLayout::roomFile(const std::string &stem, const std::string &extension)
{
    return freshPath(stem, extension);
}

std::string RecordingLayout::manifestPath() const
{
    return (std::filesystem::path(sessionDir_) / "manifest.json").string();
}

std::optional<uint64_t> RecordingLayout::freeBytes() const
{
    struct statvfs st
    {
    };
    if (::statvfs(sessionDir_.c_str(), &st) != 0)
        return std::nullopt;
    return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

std::string RecordingLayout::relativeToSession(const std::string &path) const
{
    return std::filesystem::path(path).lexically_relative(sessionDir_).string();
}

} // namespace rc::gateway
