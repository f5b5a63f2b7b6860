// Whether a room's recording continues its last session after a gateway restart: the decision
// (a pure function of times) and the scan of the room's folder that feeds it.
//
// Pure values and functions; planSession reads the file system and is called on the main
// context when a room is joined.
#pragma once

#include "common/base/log.h"

#include <chrono>
#include <optional>
#include <string>

namespace rc::gateway {

// The newest session folder of a room, as found on disk.
struct PastSession
{
    std::string folder; // its name under <recordings>/<room>/ (a session stamp)
    bool readable = false; // its manifest.json loaded and validated
    bool ended = false; // session_end is set: the gateway closed it
    std::chrono::system_clock::time_point lastKnown; // when it was last written or recorded to
};

struct ResumeDecision
{
    bool continues = false; // record into past->folder, same manifest and clock
    std::string previousSession; // a new session's link to the one before ("" none)
};

// Continue the newest session when it was never ended (a crash, kill -9) and its last known
// time is less than window before now; otherwise a new session, linked to it when there is one.
ResumeDecision decideResume(const std::optional<PastSession> &newest,
    std::chrono::system_clock::time_point now, std::chrono::milliseconds window);

// What a room session starts with.
struct SessionPlan
{
    bool continues = false;
    std::chrono::system_clock::time_point sessionStart; // the continued session's (if continues)
    std::string manifestText; // the continued session's manifest, validated by planSession
    double lastKnownOffset = 0; // the crash, on the continued session's clock
    std::string previousSession; // a new session's link ("" none)
};

// Looks at <recordingsDir>/<room>/: the newest folder named as a session stamp, its
// manifest.json (validated; a corrupt or hostile one is logged and means a new session) and the
// modification times of the manifest and of its unfinished files ("last known"). Never throws.
SessionPlan planSession(const std::string &recordingsDir, const std::string &room,
    std::chrono::system_clock::time_point now, std::chrono::milliseconds window,
    const rc::log::Logger &log);

} // namespace rc::gateway
