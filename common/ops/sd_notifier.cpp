// sd_notify(3) messages and the watchdog timer; see sd_notifier.h.
#include "common/ops/sd_notifier.h"

#include "common/base/log.h"
#include "common/base/main_context.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <ctime>

namespace rc {

SdNotifier::SdNotifier()
{
    const char *socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket && *socket;
}

void SdNotifier::send(const std::string &state)
{
    if (!enabled_)
        return;
    // unset_environment = 0: a reload or a child may need NOTIFY_SOCKET again.
    const int r = sd_notify(0, state.c_str());
    if (r < 0)
        RC_LOG_WARN("sd_notify(%s) failed: error %d", state.c_str(), -r);
}

void SdNotifier::ready()
{
    send("READY=1");
}

void SdNotifier::reloading()
{
    struct timespec ts
    {
    };
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const unsigned long long usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL
        + static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void SdNotifier::stopping()
{
    send("STOPPING=1");
}

void SdNotifier::status(const std::string &text)
{
    std::string line = text;
    for (char &c : line)
        if (c == '\n' || c == '\r')
            c = ' ';
    send("STATUS=" + line);
}

void SdNotifier::watchdogPing()
{
    send("WATCHDOG=1");
}

std::optional<std::chrono::microseconds> SdNotifier::watchdogInterval()
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return std::nullopt;
    return std::chrono::microseconds(usec);
}

bool SdNotifier::startWatchdog(GMainContext *ctx)
{
    watchdogTimer_.reset();
    if (!enabled_)
        return false;
    const auto interval = watchdogInterval();
    if (!interval)
        return false;
    // Half the interval (sd_watchdog_enabled(3)), never below 1 ms.
    auto period = std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 2);
    if (period < std::chrono::milliseconds(1))
        period = std::chrono::milliseconds(1);
    watchdogPing();
    watchdogTimer_ = addTimeout(ctx, period, [this] {
        watchdogPing();
        return true;
    });
    RC_LOG_DEBUG("systemd watchdog: pinging every %lld ms", static_cast<long long>(period.count()));
    return true;
}

std::string SdNotifier::countsStatus(size_t rooms, size_t participants, size_t outputs)
{
    return "rooms=" + std::to_string(rooms) + " participants=" + std::to_string(participants)
        + " outputs=" + std::to_string(outputs);
}

} // namespace rc
