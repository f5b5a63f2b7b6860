// A room's last session continued after a restart, or a new one linked to it; see
// session_resume.h.
#include "gateway/room/session_resume.h"

#include "gateway/room/manifest.h"
#include "gateway/room/recording_layout.h"

#include <glib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace rc::gateway {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// 20261124T041500Z: the only folder names a gateway makes under a room's folder.
bool isSessionStamp(const std::string &name)
{
    if (name.size() != 16 || name[8] != 'T' || name[15] != 'Z')
        return false;
    for (size_t i = 0; i < 15; ++i)
        if (i != 8 && !g_ascii_isdigit(name[i]))
            return false;
    return true;
}

std::optional<Clock::time_point> modified(const std::string &path)
{
    struct stat st
    {
    };
    if (::stat(path.c_str(), &st) != 0)
        return std::nullopt;
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

} // namespace

ResumeDecision decideResume(const std::optional<PastSession> &newest, Clock::time_point now,
    std::chrono::milliseconds window)
{
    ResumeDecision d;
    if (!newest)
        return d;
    // A clock that went back (lastKnown in the future) still counts as recent.
    if (newest->readable && !newest->ended && now - newest->lastKnown < window) {
        d.continues = true;
        return d;
    }
    d.previousSession = newest->folder;
    return d;
}

SessionPlan planSession(const std::string &recordingsDir, const std::string &room,
    Clock::time_point now, std::chrono::milliseconds window, const rc::log::Logger &log)
{
    SessionPlan plan;
    const fs::path roomDir = fs::path(recordingsDir.empty() ? std::string(".") : recordingsDir)
        / sanitizeFileComponent(room);
    std::error_code ec;
    std::string newestName;
    for (fs::directory_iterator it(roomDir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (isSessionStamp(name) && it->is_directory(ec) && name > newestName)
            newestName = name;
    }
    if (newestName.empty())
        return plan;

    PastSession past;
    past.folder = newestName;
    const fs::path sessionDir = roomDir / newestName;
    const std::string manifestPath = (sessionDir / "manifest.json").string();
    Manifest manifest(manifestPath, room, {});
    std::string text, why;
    {
        std::ifstream in(manifestPath, std::ios::binary);
        std::ostringstream buf;
        // More than any real manifest; a larger file is refused by load() anyway.
        if (in && fs::file_size(manifestPath, ec) <= 16 * 1024 * 1024 && !ec) {
            buf << in.rdbuf();
            text = buf.str();
        } else {
            why = "cannot read it";
        }
    }
    if (why.empty() && manifest.load(text, why)) {
        if (manifest.room() != room)
            why = "it is room " + manifest.room() + "'s";
        else if (sessionStamp(manifest.sessionStart()) != newestName)
            why = "its session_start does not match the folder";
    }
    if (!why.empty()) {
        log.warn("%s: %s; not continuing that session", manifestPath.c_str(), why.c_str());
    } else {
        past.readable = true;
        past.ended = manifest.ended();
        auto secs = std::chrono::duration<double>(manifest.lastKnownOffset());
        past.lastKnown
            = manifest.sessionStart() + std::chrono::duration_cast<Clock::duration>(secs);
        // The files kept growing after the manifest's last change: their mtime is the crash.
        std::vector<std::string> candidates { manifestPath };
        for (fs::directory_iterator it(sessionDir, ec), end; !ec && it != end; it.increment(ec))
            if (it->is_regular_file(ec))
                candidates.push_back(it->path().string());
        for (const auto &path : candidates)
            if (auto at = modified(path))
                past.lastKnown = std::max(past.lastKnown, *at);
    }

    const ResumeDecision d = decideResume(past, now, window);
    if (d.continues) {
        plan.continues = true;
        plan.sessionStart = manifest.sessionStart();
        plan.manifestText = std::move(text);
        plan.lastKnownOffset
            = std::chrono::duration<double>(past.lastKnown - manifest.sessionStart()).count();
        log.info("continuing session %s (unfinished, last written %.1f s ago)", newestName.c_str(),
            std::chrono::duration<double>(now - past.lastKnown).count());
    } else {
        plan.previousSession = d.previousSession;
    }
    return plan;
}

} // namespace rc::gateway
