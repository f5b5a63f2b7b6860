// Line-oriented logging to stderr, with sd-daemon priority prefixes under journald.
//
// Thread-safe: each line is formatted in full and written with one write(2).
#pragma once

#include <string>
#include <utility>

namespace rc::log {

enum class Level { debug = 0, info = 1, warning = 2, error = 3 };

void setLevel(Level level) noexcept;
Level level() noexcept;
bool enabled(Level level) noexcept;

// Parses "debug", "info", "warning"/"warn", "error"; returns false otherwise.
bool parseLevel(const std::string &text, Level &out) noexcept;

// The component tag ("signal", "gateway", ...) that starts every line.
void setProgram(const char *name) noexcept;

void write(Level level, const char *fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

// Lines with a fixed scope, so call sites write only what happened: a room's logger writes
// "gateway: room standup: offering to p1", its participant's "gateway: room standup: peer p1:
// ...". Scopes hold untrusted ids only as already-validated names (the protocol's
// [A-Za-z0-9_-]). A plain value; thread-safe to use (each line is one write).
class Logger
{
public:
    Logger() = default;
    explicit Logger(std::string scope)
        : scope_(std::move(scope))
    { }
    // This scope followed by sub: Logger("gateway").child("room standup").
    Logger child(const std::string &sub) const
    {
        return Logger(scope_.empty() ? sub : scope_ + ": " + sub);
    }
    const std::string &scope() const noexcept { return scope_; }

    void write(Level level, const char *fmt, ...) const noexcept
        __attribute__((format(printf, 3, 4)));
    void debug(const char *fmt, ...) const noexcept __attribute__((format(printf, 2, 3)));
    void info(const char *fmt, ...) const noexcept __attribute__((format(printf, 2, 3)));
    void warn(const char *fmt, ...) const noexcept __attribute__((format(printf, 2, 3)));
    void error(const char *fmt, ...) const noexcept __attribute__((format(printf, 2, 3)));

private:
    std::string scope_;
};

} // namespace rc::log

#define RC_LOG_DEBUG(...)                                                                          \
    do {                                                                                           \
        if (::rc::log::enabled(::rc::log::Level::debug))                                           \
            ::rc::log::write(::rc::log::Level::debug, __VA_ARGS__);                                \
    } while (0)
#define RC_LOG_INFO(...) ::rc::log::write(::rc::log::Level::info, __VA_ARGS__)
#define RC_LOG_WARN(...) ::rc::log::write(::rc::log::Level::warning, __VA_ARGS__)
#define RC_LOG_ERROR(...) ::rc::log::write(::rc::log::Level::error, __VA_ARGS__)
