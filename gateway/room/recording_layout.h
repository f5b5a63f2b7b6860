// Where a session's files go: <recordings-dir>/<room>/<session stamp>/<participant id>.<ext>.
//
// RecordingLayout is owned by one room session and is thread-bound to the
// gateway's main context (it touches the file system, not GStreamer).
#pragma once

#include "common/base/file_component.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace rc::gateway {

// UTC, ISO-8601 basic format: 20261124T041500Z.
std::string sessionStamp(std::chrono::system_clock::time_point t);

using rc::sanitizeFileComponent;

class RecordingLayout
{
public:
    RecordingLayout(std::string recordingsDir, std::string room,
        std::chrono::system_clock::time_point sessionStart);

    const std::string &
    sessionDir() const; // <recordingsDir>/<room>/<stamp>; not created by this call
    // mkdir -p the session folder (mode 0750); false with error on failure.
    bool ensureSessionDir(std::string &error);
    // A fresh path, never an existing file nor one handed out before by this
    // layout: <session>/<id>.<ext>, then <id>-2.<ext>, <id>-3.<ext>, ...
    // (a room server restart reuses peer ids: p1 may come back -> p1-2.mkv). Every later
    // part of a participant's recording is named this way: a file output continuing after a
    // full disk, a gateway continuing a session after a restart (the files of the earlier run
    // exist, so they are skipped, never overwritten).
    std::string participantFile(const std::string &participantId, const std::string &extension);
    // Same rule for room-scope outputs: <session>/<stem>.<ext>.
    std::string roomFile(const std::string &stem, const std::string &extension);
    std::string manifestPath() const; // <session>/manifest.json
    // Bytes an unprivileged writer may still put on the session folder's file system
    // (statvfs); nullopt when it cannot be asked.
    std::optional<uint64_t> freeBytes() const;
    // path relative to the session folder (for the manifest).
    std::string relativeToSession(const std::string &path) const;

private:
    std::string freshPath(const std::string &stem, const std::string &extension);

    std::string sessionDir_;
    std::set<std::string> handedOut_;
};

} // namespace rc::gateway
