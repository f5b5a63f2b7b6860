// Tells systemd the service's state (sd_notify) and feeds its watchdog from a timer on the owning
// context.
//
// Owned by a daemon's main(); thread-bound to the GMainContext given to
// startWatchdog (the timer runs there). ready()/status()/... only send one
// datagram each and never block. Every call is a no-op when NOTIFY_SOCKET is
// unset (not started by systemd, or Type= other than notify).
#pragma once

#include "common/base/gptr.h"

#include <chrono>
#include <optional>
#include <string>

namespace rc {

class SdNotifier
{
public:
    SdNotifier();
    SdNotifier(const SdNotifier &) = delete;
    SdNotifier &operator=(const SdNotifier &) = delete;

    // Whether systemd listens (NOTIFY_SOCKET is set).
    bool enabled() const noexcept { return enabled_; }

    // READY=1: start-up is complete (and, after reloading(), the reload is).
    void ready();
    // RELOADING=1 with MONOTONIC_USEC (systemd >= 253 needs it for Type=notify-reload).
    void reloading();
    // STOPPING=1: shutdown has begun; systemd waits up to TimeoutStopSec.
    void stopping();
    // STATUS=text: one line for `systemctl status` (newlines become spaces).
    void status(const std::string &text);
    // WATCHDOG=1, once.
    void watchdogPing();

    // The watchdog interval systemd asks for (WATCHDOG_USEC, honouring
    // WATCHDOG_PID); nullopt when the watchdog is off.
    static std::optional<std::chrono::microseconds> watchdogInterval();

    // Pings the watchdog from a timer on ctx at half the interval, and once at
    // once. False (and nothing started) when the watchdog is off. The pings
    // come from the main loop on purpose: a stuck loop stops them.
    bool startWatchdog(GMainContext *ctx);
    void stopWatchdog() noexcept { watchdogTimer_.reset(); }
    bool watchdogRunning() const noexcept { return watchdogTimer_ != nullptr; }

    // "rooms=R participants=P outputs=O", the STATUS= line of roomcast.
    static std::string countsStatus(size_t rooms, size_t participants, size_t outputs);

private:
    void send(const std::string &state);

    bool enabled_ = false;
    GPtr<GSource> watchdogTimer_;
};

} // namespace rc
