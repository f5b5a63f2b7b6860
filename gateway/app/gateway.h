// The roomcast application: its own GMainContext and loop, the rooms (from --room and from the
// control API), the control API, metrics, webhooks, sd_notify, SIGHUP reload and clean shutdown.
//
// Created and run by main() on the main thread, which is the thread of the
// gateway's GMainContext for the whole run (the context is pushed as that
// thread's default so libsoup and GIO use it too). Every ControlBackend
// method, RoomSession event and timer runs there. Under systemd it sends
// READY/RELOADING/STOPPING/STATUS and, when WatchdogSec is set, WATCHDOG=1
// from the main loop (so a wedged loop gets the service restarted).
#pragma once

#include "common/base/gptr.h"
#include "common/ops/sd_notifier.h"
#include "gateway/app/gateway_options.h"
#include "gateway/ops/control_api.h"
#include "gateway/ops/control_backend.h"
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

class Gateway final : public ops::ControlBackend
{
public:
    // templates: the active ones, from loadActiveTemplates().
    Gateway(GatewayOptions options, std::vector<PipelineTemplate> templates);
    ~Gateway() override;
    Gateway(const Gateway &) = delete;
    Gateway &operator=(const Gateway &) = delete;

    // Starts the control API and webhooks, joins every --room and runs until
    // SIGINT/SIGTERM (then finalizes every output, leaves, and returns 0) or
    // a fatal refusal by the room server. Returns a sysexits code; throws
    // StartupError when start-up fails.
    int run();

    // ops::ControlBackend (main context).
    GPtr<JsonNode> health() override;
    ops::BackendResult listRooms() override;
    std::optional<std::vector<ops::ParamSpec>> outputParams(const std::string &pipeline) override;
    void startOutput(const std::string &room, const std::string &pipeline,
        const ops::ParamValues &params, ops::BackendReply reply) override;
    void stopOutput(
        const std::string &room, const std::string &outputId, ops::BackendReply reply) override;
    void leaveRoom(const std::string &room, ops::BackendReply reply) override;

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
    void leave(const std::string &room, std::function<void(const std::vector<OutputInfo> &)> done);
    void onRoomLeft(const std::string &room);
    RoomSession::Events eventsFor(const std::string &room);
    void stop(const char *why, int exitCode);
    void finishStop();
    void onSignal(int signum);
    void reload();
    void reloadTokens();
    void refreshMetrics();
    void updateStatus();
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
    // Weak handles for callbacks that may outlive a room or a request.
    std::shared_ptr<Gateway *> self_;
};

} // namespace rc::gateway
