// roomcast-signal's options: command line and INI config file (with FILE.d/ drop-ins), command line
// winning.
//
// Start-up code only: every failure throws rc::StartupError, 64 for the
// command line and 78 (naming file:line) for a config file.
#pragma once

#include "common/base/listen_address.h"
#include "common/base/log.h"
#include "signaling/room_server_config.h"

#include <string>

namespace rc::signaling {

struct SignalCommand
{
    enum class Action { run, help, version, checkConfig };
    Action action = Action::run;
    RoomServerConfig server;
    log::Level logLevel = log::Level::info;
    std::string helpText;
    std::string configFile; // empty when none was given
};

SignalCommand parseSignalOptions(int argc, const char *const argv[]);

// "HOST:PORT" or "[IPV6]:PORT" into host and port; false if malformed.
// HOST is an IP literal or "localhost".
using ::rc::parseListenAddress;

// The secret file's content with trailing whitespace removed; throws
// StartupError(code) when it cannot be read or is empty.
std::string readSecretFile(const std::string &path, int code, const std::string &where);

} // namespace rc::signaling
