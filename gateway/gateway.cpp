// The roomcast application: context, rooms, signals, shutdown; see gateway.h.
#include "gateway.h"

#include "exit_codes.h"
#include "log.h"
#include "main_context.h"
#include "output_plan.h"
#include "startup_error.h"
#include "stream_linker.h"


#include <algorithm>
#include <csignal>

namespace rc::gateway {
namespace {

// Extra time past the per-participant finalize timeout before the gateway
// gives up waiting for its rooms (a room finalizes its participants in parallel).
constexpr std::chrono::milliseconds kStopGrace { 3000 };

} // namespace

Gateway::Gateway(GatewayOptions options, std::vector<PipelineTemplate> templates)
    : options_(std::move(options))
    , templates_(std::move(templates))
    , context_(g_main_context_new())
    , loop_(g_main_loop_new(context_.get(), FALSE))
{ }

Gateway::~Gateway()
{
    g_main_context_push_thread_default(context_.get());
    rooms_.clear();
    signalSources_.clear();
    stopDeadline_.reset();
    ticker_.reset();
    // Let deferred releases (posted from teardown) run before the context goes.
    while (g_main_context_iteration(context_.get(), FALSE)) { }
    g_main_context_pop_thread_default(context_.get());
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
    std::string error;
    if (!startRooms(error))
        throw StartupError(exitcode::osError, error);
    for (int signum : { SIGINT, SIGTERM, SIGHUP })
        signalSources_.push_back(
            watchUnixSignal(context_.get(), signum, [this, signum] { onSignal(signum); }));
    notifier_.status("joining rooms");
    notifier_.ready();
    // Watchdog pings come from this loop, so a stuck loop stops them.
    notifier_.startWatchdog(context_.get());
    ticker_ = addTimeout(context_.get(), std::chrono::seconds(5), [this] { return tick(); });
    RC_LOG_INFO(
        "gateway: running (%zu room(s), %zu template(s))", rooms_.size(), templates_.size());
    g_main_loop_run(loop_.get());
    return exitCode_;
}

bool Gateway::startRooms(std::string &error)
{
    std::optional<std::string> token;
    if (!options_.tokenFile.empty()) {
        std::string text, why;
        if (!readTokenFile(options_.tokenFile, text, why))
            throw StartupError(exitcode::config, why);
        token = text;
    }
    // Both scopes; the room session runs room-scope ones on its composite.
    const std::vector<ParamMap> params = resolveStartupParams(templates_, options_.templateParams);
    const std::vector<PipelineTemplate> &participantTemplates = templates_;

    PeerReceiver::Settings receiver;
    receiver.iceLocalAddresses = options_.iceLocalAddresses;
    receiver.stunServer = options_.stunServer;
    receiver.turnServer = options_.turnServer;
    for (MediaKind kind : { MediaKind::video, MediaKind::audio }) {
        auto &list = kind == MediaKind::video ? receiver.videoCodecs : receiver.audioCodecs;
        for (const auto &codec : offeredCodecs(kind, participantTemplates)) {
            if (StreamLinker::canDepayload(codec))
                list.push_back(codec);
            else
                RC_LOG_WARN("gateway: not offering %s: no depayloader/parser installed (%s)",
                    codec.c_str(), StreamLinker::elementsFor(codec).front().c_str());
        }
        std::string joined;
        for (const auto &c : list)
            joined += (joined.empty() ? "" : " ") + c;
        RC_LOG_INFO("gateway: offering %s codecs: %s", mediaKindName(kind), joined.c_str());
    }
    receiver.bitrate = { options_.videoMinBitrateKbps, options_.videoStartBitrateKbps,
        options_.videoMaxBitrateKbps };
    receiver.finalizeTimeout = options_.finalizeTimeout;

    const auto sessionStart = std::chrono::system_clock::now();
    for (const auto &room : options_.rooms) {
        RoomSession::Settings settings;
        settings.room = room;
        settings.signalingUrl = options_.signalingUrl;
        settings.token = token;
        for (size_t i = 0; i < templates_.size(); ++i)
            settings.templates.emplace_back(templates_[i], params[i]);
        settings.recordingsDir = options_.recordingsDir;
        settings.sessionStart = sessionStart;
        settings.receiver = receiver;
        auto session = std::make_unique<RoomSession>(context_.get(), std::move(settings),
            [this, room](const std::string &code, const std::string &message) {
                RC_LOG_ERROR("gateway: room %s refused the gateway: %s (%s)", room.c_str(),
                    code.c_str(), message.c_str());
                stop("refused by the room server",
                    code == "unauthorized" ? exitcode::config : exitcode::unavailable);
            });
        if (!session->start(error))
            return false;
        rooms_.push_back(std::move(session));
    }
    return true;
}

bool Gateway::tick()
{
    size_t participants = 0;
    for (const auto &room : rooms_)
        participants += room->receiverCount();
    std::string status = std::string(stopping_ ? "finalizing" : "recording") + ": "
        + std::to_string(participants) + " participant(s) in " + std::to_string(rooms_.size())
        + " room(s)";
    notifier_.status(status);
    return true;
}

void Gateway::reloadToken()
{
    if (options_.tokenFile.empty()) {
        RC_LOG_INFO("gateway: SIGHUP: no token file to re-read");
        return;
    }
    std::string token, why;
    if (!readTokenFile(options_.tokenFile, token, why)) {
        RC_LOG_ERROR("gateway: SIGHUP: keeping the current token: %s", why.c_str());
        return;
    }
    for (auto &room : rooms_)
        room->setToken(token);
    RC_LOG_INFO("gateway: SIGHUP: token re-read from %s; used from the next join",
        options_.tokenFile.c_str());
}

void Gateway::onSignal(int signum)
{
    if (signum == SIGHUP) {
        notifier_.reloading();
        reloadToken();
        notifier_.ready();
        return;
    }
    if (stopping_) {
        RC_LOG_WARN("gateway: second %s; quitting without waiting for files", strsignal(signum));
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
    RC_LOG_INFO("gateway: stopping (%s): finalizing recordings", why);
    notifier_.stopping();
    notifier_.status("finalizing recordings");
    tick();
    roomsRunning_ = rooms_.size();
    stopDeadline_ = addTimeout(context_.get(), options_.finalizeTimeout + kStopGrace, [this] {
        RC_LOG_WARN("gateway: rooms did not finish in time; quitting");
        quit();
        return false;
    });
    if (rooms_.empty()) {
        quit();
        return;
    }
    for (auto &room : rooms_) {
        room->stop([this] {
            if (--roomsRunning_ == 0) {
                RC_LOG_INFO("gateway: every recording is finalized");
                quit();
            }
        });
    }
}

void Gateway::quit()
{
    g_main_loop_quit(loop_.get());
}

} // namespace rc::gateway
