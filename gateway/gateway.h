// The roomcast application: its own GMainContext and loop, one RoomSession per --room,
// SIGINT/SIGTERM, clean shutdown.
//
// Created and run by main() on the main thread, which is the thread of the
// gateway's GMainContext for the whole run (the context is pushed as that
// thread's default so libsoup and GIO use it too). Under systemd it sends
// READY/STOPPING/STATUS and, when WatchdogSec is set, WATCHDOG=1 from the
// main loop (so a wedged loop gets the service restarted).
#pragma once

#include "sd_notifier.h"
#include "gateway_options.h"
#include "gptr.h"
#include "pipeline_template.h"
#include "room_session.h"

#include <memory>
#include <string>
#include <vector>

namespace rc::gateway {

class Gateway
{
public:
    // templates: the active ones, from loadActiveTemplates().
    Gateway(GatewayOptions options, std::vector<PipelineTemplate> templates);
    ~Gateway();
    Gateway(const Gateway &) = delete;
    Gateway &operator=(const Gateway &) = delete;

    // Joins every room and runs until SIGINT/SIGTERM (then finalizes every
    // file, leaves, and returns 0) or a fatal refusal by the room server.
    // Returns a sysexits code.
    int run();

private:
    bool startRooms(std::string &error);
    void stop(const char *why, int exitCode);
    void onSignal(int signum);
    void reloadToken();
    bool tick();
    void quit();

    GatewayOptions options_;
    std::vector<PipelineTemplate> templates_;
    GPtr<GMainContext> context_;
    GPtr<GMainLoop> loop_;
    std::vector<std::unique_ptr<RoomSession>> rooms_;
    std::vector<GPtr<GSource>> signalSources_;
    GPtr<GSource> stopDeadline_;
    SdNotifier notifier_;  // no-op unless started by systemd
    GPtr<GSource> ticker_; // STATUS= every few seconds
    size_t roomsRunning_ = 0;
    bool stopping_ = false;
    int exitCode_ = 0;
};

} // namespace rc::gateway
