// Test fixture: child processes with logs in files, a private main context, and a loopback-only
// network namespace.
#pragma once

#include "common/base/gptr.h"

#include <gio/gio.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc { }

namespace rc::test {

// Re-executes this test binary under `unshare -n` with loopback up, once:
// returns nullopt inside the namespace (go on with the test), or the exit
// status of the re-executed copy outside it. 77 (skip) when not root or
// without unshare/ip.
std::optional<int> runInLoopbackNamespace(const char *envFlag);

// One child process, its stdout and stderr in one log file. Owned by a
// ProcessFixture; thread-bound to the fixture's context.
struct Child
{
    std::string name;
    std::string logPath;
    GPtr<GObject> process; // a GSubprocess
    bool exited = false;
    int exitStatus = -1; // exit code, or 128 + signal
    std::string log() const;
};

// Owns a private GMainContext, pushed as thread-default for its lifetime
// (GSubprocess reports exits there), a log folder, and the children, which
// it kills on destruction. Thread-bound to the test's thread.
class ProcessFixture
{
public:
    explicit ProcessFixture(const std::string &name);
    ~ProcessFixture();
    ProcessFixture(const ProcessFixture &) = delete;
    ProcessFixture &operator=(const ProcessFixture &) = delete;

    Child &spawn(const std::string &name, const std::vector<std::string> &argv);
    // Iterates the context until pred holds or the timeout passes.
    bool waitFor(const std::function<bool()> &pred, std::chrono::milliseconds timeout);
    bool waitExit(Child &child, std::chrono::milliseconds timeout);
    void terminate(Child &child);
    const std::string &logDir() const noexcept { return logDir_; }
    // Every child's log, for a failure message.
    std::string allLogs() const;

private:
    GPtr<GMainContext> context_;
    std::string logDir_;
    std::vector<std::unique_ptr<Child>> children_;
};

// The first match of a regular expression's group 1 in text, or "".
std::string firstMatch(const std::string &text, const std::string &pattern);

} // namespace rc::test
