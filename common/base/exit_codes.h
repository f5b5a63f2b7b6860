// sysexits(3) codes that roomcast's programs exit with, after PipeWire's main().
#pragma once

namespace rc::exitcode {
inline constexpr int ok = 0;
inline constexpr int usage = 64; // EX_USAGE: bad command line
inline constexpr int unavailable = 69; // EX_UNAVAILABLE: a required plugin or service is missing
inline constexpr int software = 70; // EX_SOFTWARE: internal error
inline constexpr int osError = 71; // EX_OSERR: e.g. cannot bind a socket
inline constexpr int config = 78; // EX_CONFIG: bad configuration file
} // namespace rc::exitcode
