// roomcast-bench-receiver: the baseline for the gateway benchmark, a hidden member that receives
// every participant and throws the media away.
#include "common/base/config_loader.h"
#include "common/base/exit_codes.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "common/protocol/room_protocol.h"
#include "common/protocol/signaling_client.h"
#include "receive_session.h"
#include "testpeer/pipeline_host.h"

#include <gst/gst.h>

#include <iostream>
#include <map>

namespace {

using namespace rc;
namespace po = boost::program_options;

struct Options
{
    std::string url, room;
    std::vector<std::string> iceAddresses;
    int expect = 0;
    int duration = 0;
    std::string logLevel = "info";
};

std::optional<Options> parse(int argc, char **argv)
{
    Options o;
    po::options_description desc(
        "roomcast-bench-receiver: a hidden member that offers receive-only\n"
        "VP8 + Opus to every visible member (webrtcbin -> depayloader ->\n"
        "fakesink): the per-participant cost of WebRTC alone");
    // clang-format off
    desc.add_options()
        ("help,h", "print this help and exit")
        ("signaling-url", po::value(&o.url)->required(), "room server WebSocket URL")
        ("room", po::value(&o.room)->required(), "room to join (hidden)")
        ("ice-local-address", po::value(&o.iceAddresses)->composing(), "restrict ICE to this address (repeatable)")
        ("expect", po::value(&o.expect)->default_value(0), "log 'all N peers connected' once N are")
        ("duration", po::value(&o.duration)->default_value(0), "seconds; 0 = until SIGINT/SIGTERM")
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
    if (!protocol::isValidRoom(o.room))
        throw StartupError(exitcode::usage, "--room must be 1 to 64 characters of [A-Za-z0-9_-]");
    log::Level level;
    if (!log::parseLevel(o.logLevel, level))
        throw StartupError(exitcode::usage, "--log-level: unknown level");
    log::setLevel(level);
    return o;
}

// The hidden membership and its sessions. Lives on main()'s stack;
// thread-bound to its own GMainContext.
class BareReceiver
{
public:
    explicit BareReceiver(const Options &o)
        : o_(o)
        , context_(g_main_context_new())
        , loop_(g_main_loop_new(context_.get(), FALSE))
        , pipeline_(
              context_.get(), [this](GstObject *src, const std::string &msg) { onError(src, msg); })
    { }

    int run()
    {
        g_main_context_push_thread_default(context_.get()); // libsoup 3 needs it
        if (!pipeline_.play())
            throw StartupError(exitcode::software, "cannot start the pipeline");
        SignalingClient::Options so;
        so.url = o_.url;
        so.join.room = o_.room;
        so.join.hidden = true;
        client_ = std::make_unique<SignalingClient>(context_.get(), so,
            SignalingClient::Callbacks { [this](const protocol::Welcome &w) { onWelcome(w); },
                [this](const protocol::ServerMessage &m) { onMessage(m); },
                [this](const std::string &) { sessions_.clear(); },
                [this](const std::string &code, const std::string &) {
                    RC_LOG_ERROR("refused by the room server (%s)", code.c_str());
                    finish(exitcode::unavailable);
                } });
        client_->start();
        watchSignal(SIGINT);
        watchSignal(SIGTERM);
        if (o_.duration > 0)
            timer_ = addTimeout(context_.get(), std::chrono::seconds(o_.duration), [this] {
                finish(exitcode::ok);
                return false;
            });
        g_main_loop_run(loop_.get());
        sessions_.clear();
        client_->stop();
        iterateUntil(
            context_.get(), [] { return false; }, std::chrono::milliseconds(300));
        client_.reset();
        pipeline_.stop();
        g_main_context_pop_thread_default(context_.get());
        return exitCode_;
    }

private:
    void onWelcome(const protocol::Welcome &w)
    {
        sessions_.clear();
        RC_LOG_INFO("joined room %s as %s (hidden)", w.room.c_str(), w.id.c_str());
        for (const auto &p : w.peers)
            offerTo(p.id);
    }

    void onMessage(const protocol::ServerMessage &m)
    {
        if (auto *j = std::get_if<protocol::PeerJoined>(&m)) {
            offerTo(j->peer.id);
        } else if (auto *l = std::get_if<protocol::PeerLeft>(&m)) {
            sessions_.erase(l->id);
        } else if (auto *d = std::get_if<protocol::Description>(&m)) {
            auto it = sessions_.find(d->from);
            if (d->type == protocol::Type::answer && it != sessions_.end())
                it->second->handleAnswer(d->sdp);
        } else if (auto *c = std::get_if<protocol::RemoteCandidate>(&m)) {
            auto it = sessions_.find(c->from);
            if (it != sessions_.end())
                it->second->handleCandidate(c->candidate);
        }
    }

    void offerTo(const std::string &id)
    {
        bench::ReceiveSession::Environment env { context_.get(), pipeline_.bin(), o_.iceAddresses };
        auto session = std::make_unique<bench::ReceiveSession>(
            env, id, [this](const std::string &json) { return client_->send(json); },
            [this](const std::string &peer, const std::string &) { sessions_.erase(peer); },
            [this](const std::string &) { onConnected(); });
        if (!session->start())
            return;
        sessions_[id] = std::move(session);
    }

    void onConnected()
    {
        size_t n = 0;
        for (const auto &[id, s] : sessions_)
            n += s->connected() ? 1 : 0;
        if (o_.expect > 0 && n == static_cast<size_t>(o_.expect) && !announced_) {
            announced_ = true;
            RC_LOG_INFO("all %d peers connected", o_.expect);
        }
    }

    void onError(GstObject *src, const std::string &msg)
    {
        for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
            if (it->second->owns(src)) {
                RC_LOG_WARN("session with %s failed: %s", it->first.c_str(), msg.c_str());
                sessions_.erase(it);
                return;
            }
        }
        RC_LOG_ERROR("pipeline failed in %s: %s", GST_OBJECT_NAME(src), msg.c_str());
        finish(exitcode::software);
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
    std::unique_ptr<SignalingClient> client_;
    std::map<std::string, std::unique_ptr<bench::ReceiveSession>> sessions_;
    std::vector<GPtr<GSource>> signals_;
    GPtr<GSource> timer_;
    bool announced_ = false;
    bool finishing_ = false;
    int exitCode_ = exitcode::ok;
};

} // namespace

int main(int argc, char **argv)
{
    log::setProgram("bench-receiver");
    try {
        auto options = parse(argc, argv);
        if (!options)
            return exitcode::ok;
        gst_init(nullptr, nullptr);
        BareReceiver receiver(*options);
        return receiver.run();
    } catch (const StartupError &e) {
        std::cerr << "roomcast-bench-receiver: " << e.what() << "\n";
        return e.exitCode();
    }
}
