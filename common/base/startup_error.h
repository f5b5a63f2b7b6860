// The one exception type allowed to escape start-up code; main() maps it to a sysexits code.
#pragma once

#include <stdexcept>
#include <string>

namespace rc {

class StartupError : public std::runtime_error
{
public:
    StartupError(int exitCode, const std::string &message)
        : std::runtime_error(message)
        , exitCode_(exitCode)
    { }
    int exitCode() const noexcept { return exitCode_; }

private:
    int exitCode_;
};

} // namespace rc
