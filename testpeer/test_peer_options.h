// roomcast-testpeer's command line: parsing and validation into TestPeerOptions.
#pragma once

#include "testpeer/live_source.h"
#include "testpeer/participant.h"

#include <optional>
#include <string>

namespace rc::testpeer {

struct TestPeerOptions
{
    Participant::Options participant;
    LiveSourceOptions media;
    int durationSeconds = 0; // 0: until SIGINT/SIGTERM
    bool flashBeep = false; // --pattern flash-beep: see flash_beep.h (media.pattern is then black)
    int flashPeriodSeconds = 1; // --flash-period: a flash and a beep every this many seconds
    int flashFrames = 1; // --flash-frames: how many frames each flash stays white
    double pauseAt = 0, pauseFor = 0; // seconds; pauseFor > 0: see send_pause.h
    std::string logLevel = "info";
};

// Start-up code: throws rc::StartupError (64) for a bad command line or an
// unreadable token file. Returns nullopt after printing --help or --version.
std::optional<TestPeerOptions> parseTestPeerOptions(int argc, const char *const argv[]);

} // namespace rc::testpeer
