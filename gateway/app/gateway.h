// The roomcast application: its own GMainContext and loop, the rooms (from --room and from the
// control API), the control API (answered by its ControlService), metrics, webhooks, sd_notify,
// SIGHUP reload and clean shutdown.
//
// Created and run by main() on the main thread, which is the thread of the
// gateway's GMainContext for the whole run (the context is pushed as that
// thread's default so libsoup and GIO use it too). Every control API request,
// RoomSession event and timer runs there. Under systemd it sends
// READY/RELOADING/STOPPING/STATUS and, when WatchdogSec is set, WATCHDOG=1
// from the main loop (so a wedged loop gets the service restarted).
#pragma once

#include "common/base/gptr.h"
#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/ops/sd_notifier.h"
#include "gateway/app/gateway_options.h"
#include "gateway/ops/control_api.h"
#include "gateway/ops/gateway_metrics.h"
#include "gateway/ops/metrics_registry.h"
#include "gateway/ops/webhook_dispatcher.h"
#include "gateway/room/room_session.h"
#include "gateway/templates/output_plan.h"
#include "gateway/templates/pipeline_template.h"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace rc::gateway {

class ControlService;

class Gateway final
{
public:
    // templates: the active ones, from loadActiveTemplates().
    Gateway(GatewayOptions options, std::vector<PipelineTemplate> templates);
    ~Gateway();
    Gateway(const Gateway &) = delete;
    Gateway &operator=(const Gateway &) = delete;

    // Starts the control API and webhooks, joins every --room and runs until
    // SIGINT/SIGTERM (then finalizes every output, leaves, and returns 0) or
    // a fatal refusal by the room server. Returns a sysexits code; throws
    // StartupError when start-up fails.
    int run();

    // ----- what the ControlService sees (main context) -----
    struct RoomView
    {
        const std::string &name;
        RoomSession &session;
        bool leaving; // finalizing its outputs before the gateway leaves it
    };
    // Every room the gateway is in or leaving, by name.
    void forEachRoom(const std::function<void(const RoomView &)> &fn) const;
    // The room's session (and whether it is being left), nullptr when not in it.
    RoomSession *findRoom(const std::string &room, bool *leaving = nullptr) const;
    // A template the API may start, nullptr when there is none by that name.
    const PipelineTemplate *startableTemplate(const std::string &name) const;
    bool stopping() const noexcept { return stopping_; }
    // Joins a room not listed by --room (a reload that drops it does not leave it).
    bool joinRoomForApi(const std::string &room, std::string &error)
    {
        return joinRoom(room, false, error);
    }
    // Finalizes the room's outputs and leaves it; done (may be empty) gets the final outputs.
    void leave(const std::string &room, std::function<void(const std::vector<OutputInfo> &)> done);
    // Sends STATUS= with the current counts.
    void updateStatus();
    // An output of room was paused or resumed (the control API did it): its webhook.
    void outputPauseChanged(const std::string &room, const OutputInfo &output, bool paused);

private:
    struct Room
    {
        std::unique_ptr<RoomSession> session;
        bool configured = false; // listed by --room: a reload that drops it leaves it
        bool leaving = false;
        // Called with the final outputs once the room is left.
        std::vector<std::function<void(const std::vector<OutputInfo> &)>> onLeft;
    };

    void applyTemplates(std::vector<PipelineTemplate> active, std::vector<ParamMap> params,
        std::vector<PipelineTemplate> available);
    std::optional<std::string> readRoomToken() const;
    bool joinRoom(const std::string &room, bool configured, std::string &error);
    void onRoomLeft(const std::string &room);
    RoomSession::Events eventsFor(const std::string &room);
    void stop(const char *why, int exitCode);
    void finishStop();
    void onSignal(int signum);
    void reload();
    void reloadTokens();
    void refreshMetrics();
    bool tick();
    void quit();

    GatewayOptions options_;
    std::vector<PipelineTemplate> templates_; // active (--pipeline), in order
    std::vector<ParamMap> templateParams_; // their resolved values
    std::map<std::string, PipelineTemplate> available_; // startable from the API
    PeerReceiver::Settings receiver_;
    std::chrono::system_clock::time_point sessionStart_ = std::chrono::system_clock::now();

    GPtr<GMainContext> context_;
    GPtr<GMainLoop> loop_;
    // Declared before what registers in it, so it is destroyed after them.
    ops::MetricsRegistry registry_;
    ops::GatewayMetrics metrics_;
    std::set<std::pair<std::string, std::string>> outputSeries_; // (template, state) gauges set
    // Per-participant and per-output series exported at the last refresh (removed when gone).
    std::set<std::vector<std::string>> participantSeries_, outputBytesSeries_;
    std::unique_ptr<ops::WebhookDispatcher> webhooks_;
    std::map<std::string, Room> rooms_;
    std::unique_ptr<ControlService> control_; // the API's backend; borrows this gateway
    std::unique_ptr<ops::ControlApi> api_; // destroyed first: no request reaches a dying gateway
    std::vector<GPtr<GSource>> signalSources_;
    GPtr<GSource> stopDeadline_;
    GPtr<GSource> drainTimer_;
    SdNotifier notifier_; // no-op unless started by systemd
    GPtr<GSource> ticker_; // STATUS= and metrics polling
    bool running_ = false; // start-up is over: rooms joined from now on get their own session
    bool stopping_ = false;
    bool quitting_ = false;
    int exitCode_ = 0;
    rc::log::Logger log_ { "gateway" };
    // Weak handles for callbacks that may outlive a room or a request; last, so it dies first.
    WeakSelf<Gateway> self_ { this };
};

} // namespace rc::gateway
