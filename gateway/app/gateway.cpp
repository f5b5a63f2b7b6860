// The roomcast application: context, rooms, room events to webhooks, signals, reload and
// shutdown; see gateway.h (what it shows of itself is in gateway_status.cpp, the control API's
// backend in control_service.cpp).
#include "gateway/app/gateway.h"

#include "common/base/exit_codes.h"
#include "common/base/json.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "common/protocol/signaling_client.h"
#include "gateway/app/config_check.h"
#include "gateway/app/control_service.h"
#include "gateway/app/status_json.h"
#include "gateway/app/whep_endpoint.h"
#include "gateway/app/whip_endpoint.h"
#include "gateway/media/stream_linker.h"
#include "gateway/ops/output_params.h"
#include "gateway/templates/template_codecs.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <set>

namespace rc::gateway {
namespace {

// Extra time past the per-participant finalize timeout before the gateway
// gives up waiting for its rooms (a room finalizes its participants in parallel).
constexpr std::chrono::milliseconds kStopGrace { 3000 };
// After the last file is closed, how long shutdown waits for webhooks still
// queued (output.finished mostly) before dropping them.
constexpr std::chrono::milliseconds kWebhookDrain { 2000 };
// STATUS= and metrics polling (packets, bytes) interval.
constexpr std::chrono::seconds kTickInterval { 2 };

PeerReceiver::Settings receiverSettings(const GatewayOptions &options,
    const std::vector<PipelineTemplate> &active, const std::vector<PipelineTemplate> &available)
{
    const rc::log::Logger log("gateway");
    PeerReceiver::Settings receiver;
    receiver.iceLocalAddresses = options.iceLocalAddresses;
    receiver.stunServer = options.stunServer;
    receiver.turnServer = options.turnServer;
    receiver.relayOnly = options.relayOnly;
    for (MediaKind kind : { MediaKind::video, MediaKind::audio }) {
        auto &list = kind == MediaKind::video ? receiver.videoCodecs : receiver.audioCodecs;
        // The active templates' preferences first; then whatever else a
        // template the API may start takes, so that its output can attach.
        std::vector<std::string> codecs
            = offeredCodecs(kind, templateCodecs(kind, active), hasRoomScope(active));
        for (const auto &codec :
            offeredCodecs(kind, templateCodecs(kind, available), hasRoomScope(available)))
            if (std::find(codecs.begin(), codecs.end(), codec) == codecs.end())
                codecs.push_back(codec);
        for (const auto &codec : codecs) {
            if (StreamLinker::canDepayload(codec))
                list.push_back(codec);
            else
                log.warn("not offering %s: no depayloader/parser installed (%s)", codec.c_str(),
                    StreamLinker::elementsFor(codec).front().c_str());
        }
        std::string joined;
        for (const auto &c : list)
            joined += (joined.empty() ? "" : " ") + c;
        log.info("offering %s codecs: %s", mediaKindName(kind), joined.c_str());
    }
    receiver.bitrate = { options.videoMinBitrateKbps, options.videoStartBitrateKbps,
        options.videoMaxBitrateKbps };
    receiver.finalizeTimeout = options.finalizeTimeout;
    receiver.participantGrace = options.participantGrace;
    return receiver;
}

std::vector<PipelineTemplate> loadAvailable(const GatewayOptions &options)
{
    std::vector<std::string> skipped;
    auto available = loadAvailableTemplates(options, skipped);
    for (const auto &why : skipped)
        rc::log::Logger("gateway").warn("template not offered by the control API: %s", why.c_str());
    return available;
}

} // namespace

Gateway::Gateway(GatewayOptions options, std::vector<PipelineTemplate> templates)
    : options_(std::move(options))
    , context_(g_main_context_new())
    , loop_(g_main_loop_new(context_.get(), FALSE))
    , metrics_(registry_)
{
    auto params = resolveStartupParams(templates, options_.templateParams);
    applyTemplates(std::move(templates), std::move(params), loadAvailable(options_));
}

Gateway::~Gateway()
{
    self_.invalidate();
    g_main_context_push_thread_default(context_.get());
    api_.reset();
    control_.reset();
    rooms_.clear();
    webhooks_.reset();
    signalSources_.clear();
    stopDeadline_.reset();
    drainTimer_.reset();
    ticker_.reset();
    notifier_.stopWatchdog();
    // Let deferred releases (posted from teardown) run before the context goes.
    while (g_main_context_iteration(context_.get(), FALSE)) { }
    g_main_context_pop_thread_default(context_.get());
}

void Gateway::applyTemplates(std::vector<PipelineTemplate> active, std::vector<ParamMap> params,
    std::vector<PipelineTemplate> available)
{
    std::map<std::string, PipelineTemplate> byName;
    for (auto &tpl : available)
        byName.emplace(tpl.name, tpl);
    // The active ones were found by the --pipeline rules; they win.
    for (const auto &tpl : active)
        byName.insert_or_assign(tpl.name, tpl);
    std::vector<PipelineTemplate> all;
    for (const auto &[name, tpl] : byName)
        all.push_back(tpl);
    receiver_ = receiverSettings(options_, active, all);
    templates_ = std::move(active);
    templateParams_ = std::move(params);
    available_ = std::move(byName);
}

int Gateway::run()
{
    // Our context is the thread default for the whole run (libsoup's I/O
    // goes there), also when start-up throws.
    struct ThreadDefault
    {
        GMainContext *context;
        explicit ThreadDefault(GMainContext *c)
            : context(c)
        {
            g_main_context_push_thread_default(c);
        }
        ~ThreadDefault() { g_main_context_pop_thread_default(context); }
    } threadDefault(context_.get());

    registry_.addCollector([this] { refreshMetrics(); });

    ops::WebhookConfig hooks;
    hooks.urls = options_.webhookUrls;
    if (!options_.webhookSecretFile.empty()) {
        std::string why;
        if (!readTokenFile(options_.webhookSecretFile, hooks.secret, why))
            throw StartupError(exitcode::config, "webhook-secret-file: " + why);
    }
    hooks.queueCapacity = static_cast<size_t>(options_.webhookQueue);
    webhooks_ = std::make_unique<ops::WebhookDispatcher>(context_.get(), hooks, registry_);

    if (options_.apiEnabled) {
        ops::ControlApiConfig api;
        api.host = options_.apiHost;
        api.port = options_.apiPort;
        if (!options_.apiTokenFile.empty()) {
            std::string token, why;
            if (!readTokenFile(options_.apiTokenFile, token, why))
                throw StartupError(exitcode::config, "api-token-file: " + why);
            api.token = token;
        }
        if (!options_.whepTokenSecretFile.empty()) {
            std::string secret, why;
            if (!readTokenFile(options_.whepTokenSecretFile, secret, why))
                throw StartupError(exitcode::config, "whep-token-secret-file: " + why);
            api.mediaTokenSecret = secret;
        }
        api.tlsCertificateFile = options_.apiTlsCertificate;
        api.tlsKeyFile = options_.apiTlsKey;
        api.corsOrigins = options_.corsOrigins;
        // Long enough for a finalize (EOS, wait) plus the room's grace.
        api.replyTimeout = options_.finalizeTimeout + kStopGrace;
        control_ = std::make_unique<ControlService>(*this);
        api_ = std::make_unique<ops::ControlApi>(api, context_.get(), *control_, registry_);
        api_->addSdpEndpoint("whep", makeWhepEndpoint([this](const std::string &room) {
            bool leaving = false;
            RoomSession *session = findRoom(room, &leaving);
            return leaving ? nullptr : session;
        }));
        api_->addSdpEndpoint("whip", whipEndpoint(*this));
        api_->start(); // throws StartupError: 78 no token off loopback, 71 cannot listen
    }

    for (const auto &room : options_.rooms) {
        std::string error;
        if (!joinRoom(room, true, error))
            throw StartupError(exitcode::osError, error);
    }
    sigset_t handled;
    sigemptyset(&handled);
    for (int signum : { SIGINT, SIGTERM, SIGHUP }) {
        signalSources_.push_back(
            watchUnixSignal(context_.get(), signum, [this, signum] { onSignal(signum); }));
        sigaddset(&handled, signum);
    }
    // main() held these pending during start-up; a stop asked for meanwhile is handled now.
    pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);
    running_ = true;
    // READY only now: the API listens and main() has checked the plugins.
    notifier_.ready();
    updateStatus();
    // Watchdog pings come from this loop, so a stuck loop stops them.
    notifier_.startWatchdog(context_.get());
    ticker_ = addTimeout(context_.get(), kTickInterval, [this] { return tick(); });
    log_.info("running (%zu room(s), %zu template(s), %zu startable by the API)", rooms_.size(),
        templates_.size(), available_.size());
    g_main_loop_run(loop_.get());
    if (api_)
        api_->stop();
    return exitCode_;
}

std::optional<std::string> Gateway::readRoomToken() const
{
    if (options_.tokenFile.empty())
        return std::nullopt;
    std::string text, why;
    if (!readTokenFile(options_.tokenFile, text, why)) {
        log_.error("%s; joining without a token", why.c_str());
        return std::nullopt;
    }
    return text;
}

bool Gateway::joinRoom(const std::string &room, bool configured, std::string &error)
{
    RoomSession::Settings settings;
    settings.room = room;
    settings.link = [context = context_.get(), url = options_.signalingUrl,
                        caFile = options_.signalingCaFile](
                        protocol::Join join, RoomLink::Callbacks callbacks) {
        SignalingClient::Options link;
        link.url = url;
        link.caFile = caFile;
        link.join = std::move(join);
        return std::make_unique<SignalingClient>(context, std::move(link), std::move(callbacks));
    };
    settings.token = readRoomToken();
    if (configured) {
        for (size_t i = 0; i < templates_.size(); ++i)
            settings.templates.emplace_back(templates_[i], templateParams_[i]);
    }
    settings.recordingsDir = options_.recordingsDir;
    settings.sessionStart = sessionStart_;
    settings.plan = planSession(options_.recordingsDir, room, std::chrono::system_clock::now(),
        options_.resumeWindow, log_);
    if (settings.plan.continues) {
        settings.sessionStart = settings.plan.sessionStart;
    } else if (running_) {
        // Joined later (API, reload): a session of its own, stamped with the
        // join time, so that rejoining never overwrites an earlier manifest.
        auto start
            = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
        std::error_code ec;
        while (std::filesystem::exists(
            RecordingLayout(options_.recordingsDir, room, start).sessionDir(), ec))
            start += std::chrono::seconds(1);
        settings.sessionStart = start;
    }
    settings.receiver = receiver_;
    auto session = std::make_unique<RoomSession>(context_.get(), std::move(settings),
        [ref = self_.ref(), room](const std::string &code, const std::string &message) {
            Gateway *self = ref.lock();
            if (!self)
                return;
            self->log_.error("room %s refused the gateway: %s (%s)", room.c_str(), code.c_str(),
                message.c_str());
            Gateway &g = *self;
            auto it = g.rooms_.find(room);
            // A room the API asked for is given up alone; a configured one
            // cannot be recorded as configured, so the service stops.
            if (it != g.rooms_.end() && !it->second.configured) {
                g.leave(room, nullptr);
                return;
            }
            g.stop("refused by the room server",
                code == "unauthorized" ? exitcode::config : exitcode::unavailable);
        });
    session->setEvents(eventsFor(room));
    if (!session->start(error))
        return false;
    Room &r = rooms_[room];
    r.session = std::move(session);
    r.configured = configured;
    log_.info("joining room %s%s", room.c_str(), configured ? "" : " (for the control API)");
    updateStatus();
    return true;
}

RoomSession::Events Gateway::eventsFor(const std::string &room)
{
    // The session is owned by rooms_ and destroyed before this Gateway, so
    // `this` outlives every callback.
    RoomSession::Events e;
    const rc::log::Logger roomLog = log_.child("room " + room);
    auto participantEvent = [this, room](const char *event, const ParticipantInfo &p) {
        json::ObjectBuilder b;
        b.set("room", room).set("participant", p.id);
        if (p.name)
            b.set("name", *p.name);
        b.set("joined_at", isoTime(p.joinedAt));
        if (webhooks_)
            webhooks_->enqueue(event, b.build());
        updateStatus();
    };
    e.participantJoined = [participantEvent](const ParticipantInfo &p) {
        participantEvent(ops::webhook_event::participantJoined, p);
    };
    e.participantLeft = [participantEvent](const ParticipantInfo &p) {
        participantEvent(ops::webhook_event::participantLeft, p);
    };
    e.outputStarted = [this, room, roomLog](const OutputInfo &o) {
        roomLog.info("output %s (%s) started", o.id.c_str(), o.templateName.c_str());
        if (webhooks_)
            webhooks_->enqueue(ops::webhook_event::outputStarted, outputJson(room, o));
        updateStatus();
    };
    e.outputFinished = [this, room, roomLog](const OutputInfo &o) {
        roomLog.info("output %s (%s) finished", o.id.c_str(), o.templateName.c_str());
        metrics_.outputBytes.with({ room, o.id, o.templateName })
            .mirror(static_cast<double>(o.bytes));
        if (webhooks_)
            webhooks_->enqueue(ops::webhook_event::outputFinished, outputJson(room, o));
        updateStatus();
    };
    e.outputFailed = [this, room, roomLog](const OutputInfo &o, const std::string &reason) {
        roomLog.warn(
            "output %s (%s) failed: %s", o.id.c_str(), o.templateName.c_str(), reason.c_str());
        auto node = outputJson(room, o);
        json_object_set_string_member(json_node_get_object(node.get()), "reason", reason.c_str());
        if (webhooks_)
            webhooks_->enqueue(ops::webhook_event::outputFailed, std::move(node));
        updateStatus();
    };
    e.outputRestarted
        = [this](const OutputInfo &o) { metrics_.outputRestarts.with({ o.templateName }).inc(); };
    e.keyframeRequested = [this, room] { metrics_.keyframeRequests.with({ room }).inc(); };
    return e;
}

void Gateway::leave(
    const std::string &room, std::function<void(const std::vector<OutputInfo> &)> done)
{
    auto it = rooms_.find(room);
    if (it == rooms_.end())
        return;
    Room &r = it->second;
    if (done)
        r.onLeft.push_back(std::move(done));
    if (r.leaving)
        return;
    r.leaving = true;
    log_.info("leaving room %s: finalizing its outputs", room.c_str());
    r.session->stop([ref = self_.ref(), room] {
        if (Gateway *self = ref.lock())
            self->onRoomLeft(room);
    });
}

void Gateway::onRoomLeft(const std::string &room)
{
    auto it = rooms_.find(room);
    if (it == rooms_.end())
        return;
    const auto outputs = it->second.session->outputs();
    auto waiters = std::move(it->second.onLeft);
    // Final byte counts before the session goes.
    for (const auto &o : outputs)
        metrics_.outputBytes.with({ room, o.id, o.templateName })
            .mirror(static_cast<double>(o.bytes));
    // Destroyed from a fresh dispatch, never inside the session's own call chain.
    releaseLater(context_.get(), std::move(it->second.session));
    rooms_.erase(it);
    log_.info("left room %s", room.c_str());
    for (auto &w : waiters)
        w(outputs);
    updateStatus();
    if (stopping_ && rooms_.empty())
        finishStop();
}

bool Gateway::tick()
{
    refreshMetrics();
    updateStatus();
    return true;
}

// ----- signals, reload, shutdown -----

void Gateway::reloadTokens()
{
    if (!options_.tokenFile.empty()) {
        std::string token, why;
        if (!readTokenFile(options_.tokenFile, token, why)) {
            log_.error("reload: keeping the current join token: %s", why.c_str());
        } else {
            for (auto &[name, r] : rooms_)
                r.session->setToken(token);
            log_.info("reload: join token re-read from %s; used from the next join",
                options_.tokenFile.c_str());
        }
    }
    if (api_ && !options_.apiTokenFile.empty()) {
        std::string token, why;
        if (!readTokenFile(options_.apiTokenFile, token, why) || !api_->setToken(token))
            log_.error("reload: keeping the current API token: %s", why.c_str());
        else
            log_.info("reload: API token re-read from %s", options_.apiTokenFile.c_str());
    }
    if (api_ && !options_.apiTlsCertificate.empty())
        api_->reloadTls(); // certificate renewal; logs either way
}

void Gateway::reload()
{
    std::vector<const char *> argv;
    for (const auto &a : options_.argv)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    GatewayOptions next;
    std::vector<PipelineTemplate> active, available;
    std::vector<ParamMap> params;
    try {
        auto parsed = parseGatewayOptions(static_cast<int>(options_.argv.size()), argv.data());
        if (!parsed)
            throw StartupError(exitcode::usage, "the command line asks for --help or --version");
        next = std::move(*parsed);
        active = loadActiveTemplates(next);
        params = resolveStartupParams(active, next.templateParams);
        available = loadAvailable(next);
    } catch (const std::exception &e) {
        log_.error("reload rejected, the current configuration stays in force: %s", e.what());
        reloadTokens();
        return;
    }
    // What only a restart changes: the listener, the webhook receivers.
    if (next.apiEnabled != options_.apiEnabled || next.apiHost != options_.apiHost
        || next.apiPort != options_.apiPort || next.webhookUrls != options_.webhookUrls
        || next.webhookSecretFile != options_.webhookSecretFile
        || next.webhookQueue != options_.webhookQueue)
        log_.warn("reload: API and webhook settings change only on restart");
    const std::vector<std::string> oldRooms = options_.rooms;
    const std::vector<std::string> newRooms = next.rooms;
    const auto keep = [&](GatewayOptions &n) {
        n.apiEnabled = options_.apiEnabled;
        n.apiHost = options_.apiHost;
        n.apiPort = options_.apiPort;
        n.apiTokenFile = n.apiTokenFile.empty() ? options_.apiTokenFile : n.apiTokenFile;
        n.webhookUrls = options_.webhookUrls;
        n.webhookSecretFile = options_.webhookSecretFile;
        n.webhookQueue = options_.webhookQueue;
    };
    keep(next);
    options_ = std::move(next);
    applyTemplates(std::move(active), std::move(params), std::move(available));
    reloadTokens();

    size_t joined = 0, left = 0;
    for (const auto &room : newRooms) {
        auto it = rooms_.find(room);
        if (it != rooms_.end() && !it->second.leaving) {
            // Already in it (e.g. joined by the API): it now stays on reloads.
            it->second.configured = true;
            continue;
        }
        if (it != rooms_.end())
            continue; // still leaving; a later reload joins it again
        std::string error;
        if (joinRoom(room, true, error))
            ++joined;
        else
            log_.error("reload: cannot join room %s: %s", room.c_str(), error.c_str());
    }
    for (const auto &room : oldRooms) {
        if (std::find(newRooms.begin(), newRooms.end(), room) != newRooms.end())
            continue;
        auto it = rooms_.find(room);
        if (it == rooms_.end() || it->second.leaving || !it->second.configured)
            continue;
        leave(room, nullptr);
        ++left;
    }
    log_.info("reloaded %s: %zu room(s) joined, %zu left, %zu template(s) startable",
        options_.configFile.empty() ? "(no config file)" : options_.configFile.c_str(), joined,
        left, available_.size());
}

void Gateway::onSignal(int signum)
{
    if (signum == SIGHUP) {
        if (stopping_) {
            log_.info("SIGHUP while stopping: ignored");
            return;
        }
        notifier_.reloading();
        reload();
        notifier_.ready();
        updateStatus();
        return;
    }
    if (stopping_) {
        log_.warn("second %s; quitting without waiting for files", strsignal(signum));
        quit();
        return;
    }
    stop(signum == SIGINT ? "SIGINT" : "SIGTERM", exitcode::ok);
}

void Gateway::stop(const char *why, int exitCode)
{
    if (stopping_)
        return;
    stopping_ = true;
    exitCode_ = exitCode;
    log_.info("stopping (%s): finalizing recordings", why);
    notifier_.stopping();
    if (api_)
        api_->refuseChanges(true);
    updateStatus();
    stopDeadline_ = addTimeout(context_.get(), options_.finalizeTimeout + kStopGrace, [this] {
        log_.warn("rooms did not finish in time; quitting");
        quit();
        return false;
    });
    if (rooms_.empty()) {
        finishStop();
        return;
    }
    std::vector<std::string> names;
    for (const auto &[name, r] : rooms_)
        names.push_back(name);
    for (const auto &name : names)
        leave(name, nullptr);
}

void Gateway::finishStop()
{
    log_.info("every recording is finalized");
    if (!webhooks_ || webhooks_->idle()) {
        quit();
        return;
    }
    // Give output.finished and friends a bounded chance to get out.
    const gint64 deadline = g_get_monotonic_time()
        + std::chrono::duration_cast<std::chrono::microseconds>(kWebhookDrain).count();
    drainTimer_ = addTimeout(context_.get(), std::chrono::milliseconds(50), [this, deadline] {
        if (webhooks_->idle() || g_get_monotonic_time() >= deadline) {
            if (!webhooks_->idle())
                log_.warn("%zu webhook event(s) undelivered at exit", webhooks_->queued());
            quit();
            return false;
        }
        return true;
    });
}

void Gateway::quit()
{
    if (quitting_)
        return;
    quitting_ = true;
    g_main_loop_quit(loop_.get());
}

} // namespace rc::gateway
