// Log line formatting and output; see log.h.
#include "common/base/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/time.h>
#include <unistd.h>

namespace rc::log {
namespace {
std::atomic<int> g_level { static_cast<int>(Level::info) };
std::atomic<const char *> g_program { "roomcast" };

// Under systemd, journald reads "<N>" prefixes as syslog priorities, so the
// journal keeps levels; a timestamp would be redundant there.
bool underJournal() noexcept
{
    static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
    return journal;
}

int syslogPriority(Level l) noexcept
{
    switch (l) {
    case Level::debug:
        return 7;
    case Level::info:
        return 6;
    case Level::warning:
        return 4;
    case Level::error:
        return 3;
    }
    return 6;
}

const char *levelName(Level l) noexcept
{
    switch (l) {
    case Level::debug:
        return "debug";
    case Level::info:
        return "info";
    case Level::warning:
        return "warn";
    case Level::error:
        return "error";
    }
    return "info";
}
} // namespace

void setLevel(Level l) noexcept
{
    g_level.store(static_cast<int>(l));
}
Level level() noexcept
{
    return static_cast<Level>(g_level.load());
}
bool enabled(Level l) noexcept
{
    return static_cast<int>(l) >= g_level.load();
}
void setProgram(const char *name) noexcept
{
    g_program.store(name);
}

bool parseLevel(const std::string &text, Level &out) noexcept
{
    if (text == "debug")
        out = Level::debug;
    else if (text == "info")
        out = Level::info;
    else if (text == "warning" || text == "warn")
        out = Level::warning;
    else if (text == "error")
        out = Level::error;
    else
        return false;
    return true;
}

namespace {
// One line: header, optional "scope: ", message, newline; one write(2).
void emit(Level l, const std::string *scope, const char *fmt, va_list ap) noexcept
{
    char line[4096];
    int n = 0;
    if (underJournal()) {
        n = std::snprintf(line, sizeof line, "<%d>%s: ", syslogPriority(l), g_program.load());
    } else {
        struct timeval tv;
        gettimeofday(&tv, nullptr);
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        n = std::snprintf(line, sizeof line,
            "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(tv.tv_usec / 1000),
            g_program.load(), levelName(l));
    }
    if (n < 0)
        return;
    if (scope && !scope->empty() && static_cast<size_t>(n) + scope->size() + 2 < sizeof line / 2) {
        std::memcpy(line + n, scope->data(), scope->size());
        n += static_cast<int>(scope->size());
        line[n++] = ':';
        line[n++] = ' ';
    }
    int m = std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, fmt, ap);
    size_t len = static_cast<size_t>(n) + (m < 0 ? 0 : static_cast<size_t>(m));
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t ignored = ::write(STDERR_FILENO, line, len);
    (void)ignored;
}
} // namespace

void write(Level l, const char *fmt, ...) noexcept
{
    if (!enabled(l))
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(l, nullptr, fmt, ap);
    va_end(ap);
}

void Logger::write(Level l, const char *fmt, ...) const noexcept
{
    if (!enabled(l))
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(l, &scope_, fmt, ap);
    va_end(ap);
}

#define RC_LOGGER_LEVEL(method, lvl)                                                               \
    void Logger::method(const char *fmt, ...) const noexcept                                       \
    {                                                                                              \
        if (!enabled(lvl))                                                                         \
            return;                                                                                \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        emit(lvl, &scope_, fmt, ap);                                                               \
        va_end(ap);                                                                                \
    }
RC_LOGGER_LEVEL(debug, Level::debug)
RC_LOGGER_LEVEL(info, Level::info)
RC_LOGGER_LEVEL(warn, Level::warning)
RC_LOGGER_LEVEL(error, Level::error)
#undef RC_LOGGER_LEVEL

} // namespace rc::log
