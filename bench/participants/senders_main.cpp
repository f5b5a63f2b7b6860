// roomcast-bench-senders: N visible participants in one process, each on its own signaling
// connection, looping one pre-encoded VP8 + Opus clip.
#include "clip_player.h"
#include "common/base/config_loader.h"
#include "common/base/exit_codes.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "common/protocol/room_protocol.h"
#include "testpeer/participant.h"
#include "testpeer/pipeline_host.h"

#include <gst/gst.h>

#include <iostream>
#include <set>

namespace {

using namespace rc;
namespace po = boost::program_options;

struct Options
{
    std::string url, room, namePrefix = "sender";
    int count = 1;
    int duration = 0;
    std::vector<std::string> iceAddresses;
    bench::ClipOptions clip;
    std::string logLevel = "info";
};

std::optional<Options> parse(int argc, char **argv)
{
    Options o;
    po::options_description desc(
        "roomcast-bench-senders: N visible participants that answer every\n"
        "offer with one shared pre-encoded VP8 + Opus clip (never mesh)");
    // clang-format off
    desc.add_options()
        ("help,h", "print this help and exit")
        ("signaling-url", po::value(&o.url)->required(), "room server WebSocket URL")
        ("room", po::value(&o.room)->required(), "room to join")
        ("count", po::value(&o.count)->default_value(1), "participants to run")
        ("name-prefix", po::value(&o.namePrefix)->default_value("sender"), "display names: PREFIX-1 ...")
        ("duration", po::value(&o.duration)->default_value(0), "seconds, then leave; 0 = until SIGINT/SIGTERM")
        ("ice-local-address", po::value(&o.iceAddresses)->composing(), "restrict ICE to this address (repeatable)")
        ("width", po::value(&o.clip.width)->default_value(640), "clip width")
        ("height", po::value(&o.clip.height)->default_value(360), "clip height")
        ("fps", po::value(&o.clip.fps)->default_value(30), "clip frame rate")
        ("bitrate", po::value(&o.clip.bitrateKbps)->default_value(500), "clip video bitrate, kbit/s")
        ("clip-seconds", po::value(&o.clip.seconds)->default_value(4), "clip length before it loops")
        ("log-level", po::value(&o.logLevel)->default_value("info"), "debug | info | warning | error");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(config::parseCommandLine(argc, argv, desc), vm);
        if (vm.count("help")) {
            std::cout << desc << "\n";
            return std::nullopt;
        }
        po::notify(vm);
    } catch (const po::error &e) {
        throw StartupError(exitcode::usage, std::string("command line: ") + e.what());
    }
    auto range = [](const char *n, int v, int lo, int hi) {
        if (v < lo || v > hi)
            throw StartupError(exitcode::usage, std::string("--") + n + " out of range");
    };
    range("count", o.count, 1, 500);
    range("duration", o.duration, 0, 86400);
    range("width", o.clip.width, 16, 4096);
    range("height", o.clip.height, 16, 4096);
    range("fps", o.clip.fps, 1, 120);
    range("bitrate", o.clip.bitrateKbps, 16, 50000);
    range("clip-seconds", o.clip.seconds, 1, 60);
    if (!protocol::isValidRoom(o.room))
        throw StartupError(exitcode::usage, "--room must be 1 to 64 characters of [A-Za-z0-9_-]");
    log::Level level;
    if (!log::parseLevel(o.logLevel, level))
        throw StartupError(exitcode::usage, "--log-level: unknown level");
    log::setLevel(level);
    return o;
}

// The load generator's process: one context, one pipeline, one clip, N
// Participants. Lives on main()'s stack; thread-bound to its own context.
class SendersProcess
{
public:
    explicit SendersProcess(const Options &o)
        : o_(o)
        , context_(g_main_context_new())
        , loop_(g_main_loop_new(context_.get(), FALSE))
        , pipeline_(context_.get(), [this](GstObject *src, const std::string &msg) {
            for (auto &p : participants_)
                if (p->handleElementError(src, msg))
                    return;
            RC_LOG_ERROR("media pipeline failed in %s: %s", GST_OBJECT_NAME(src), msg.c_str());
            finish(exitcode::software);
        })
    { }

    int run()
    {
        g_main_context_push_thread_default(context_.get()); // libsoup 3 needs it
        gint64 t0 = g_get_monotonic_time();
        auto clip = std::make_shared<const bench::EncodedClip>(bench::encodeClip(o_.clip));
        RC_LOG_INFO("encoded a %d s clip (%zu video frames, %zu audio packets) in %lld ms",
            o_.clip.seconds, clip->video.size(), clip->audio.size(),
            static_cast<long long>((g_get_monotonic_time() - t0) / 1000));
        player_ = std::make_unique<bench::ClipPlayer>(context_.get(), pipeline_.bin(), clip);
        if (!pipeline_.play())
            throw StartupError(exitcode::software, "cannot start the pipeline");
        player_->start();
        for (int i = 1; i <= o_.count; ++i) {
            testpeer::Participant::Options po;
            po.url = o_.url;
            po.room = o_.room;
            po.name = o_.namePrefix + "-" + std::to_string(i);
            po.mesh = false; // senders only answer: the receiver under test offers
            po.iceAddresses = o_.iceAddresses;
            po.logPrefix = po.name + ": ";
            participants_.push_back(std::make_unique<testpeer::Participant>(context_.get(),
                pipeline_.bin(), *player_, po,
                testpeer::Participant::Callbacks {
                    [this, i](const std::string &) { onConnected(i); },
                    [this](const std::string &code) {
                        RC_LOG_ERROR("refused by the room server (%s)", code.c_str());
                        finish(exitcode::unavailable);
                    } }));
        }
        for (auto &p : participants_)
            p->start();
        watchSignal(SIGINT);
        watchSignal(SIGTERM);
        if (o_.duration > 0)
            durationTimer_ = addTimeout(context_.get(), std::chrono::seconds(o_.duration), [this] {
                finish(exitcode::ok);
                return false;
            });
        g_main_loop_run(loop_.get());
        for (auto &p : participants_)
            p->stop();
        iterateUntil(
            context_.get(), [] { return false; }, std::chrono::milliseconds(300));
        RC_LOG_INFO("keyframes sent on request: %llu", player_->keyframesOnDemand());
        participants_.clear();
        pipeline_.stop();
        g_main_context_pop_thread_default(context_.get());
        return exitCode_;
    }

private:
    void onConnected(int index)
    {
        if (connected_.insert(index).second && connected_.size() == static_cast<size_t>(o_.count))
            RC_LOG_INFO("all %d senders connected", o_.count);
    }

    void watchSignal(int signum)
    {
        signals_.push_back(
            watchUnixSignal(context_.get(), signum, [this] { finish(exitcode::ok); }));
    }

    void finish(int code)
    {
        if (finishing_)
            return;
        finishing_ = true;
        exitCode_ = code;
        g_main_loop_quit(loop_.get());
    }

    const Options &o_;
    GPtr<GMainContext> context_;
    GPtr<GMainLoop> loop_;
    testpeer::PipelineHost pipeline_;
    std::unique_ptr<bench::ClipPlayer> player_;
    std::vector<std::unique_ptr<testpeer::Participant>> participants_;
    std::set<int> connected_;
    std::vector<GPtr<GSource>> signals_;
    GPtr<GSource> durationTimer_;
    bool finishing_ = false;
    int exitCode_ = exitcode::ok;
};

} // namespace

int main(int argc, char **argv)
{
    log::setProgram("bench-senders");
    try {
        auto options = parse(argc, argv);
        if (!options)
            return exitcode::ok;
        gst_init(nullptr, nullptr);
        SendersProcess process(*options);
        return process.run();
    } catch (const StartupError &e) {
        std::cerr << "roomcast-bench-senders: " << e.what() << "\n";
        return e.exitCode();
    }
}
