// roomcast-testpeer: joins a room as a visible participant and sends a test pattern and a tone.
#include "common/base/exit_codes.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "testpeer/flash_beep.h"
#include "testpeer/live_source.h"
#include "testpeer/participant.h"
#include "testpeer/pipeline_host.h"
#include "testpeer/send_pause.h"
#include "testpeer/test_peer_options.h"

#include <gst/gst.h>

#include <chrono>
#include <csignal>
#include <iostream>

namespace {

using namespace rc;
using namespace rc::testpeer;

// The process around one Participant: context, loop, pipeline, signals and
// the --duration timer. Lives on main()'s stack; thread-bound to its own
// GMainContext, which main's thread iterates.
class TestPeerProcess
{
public:
    explicit TestPeerProcess(const TestPeerOptions &options)
        : options_(options)
        , context_(g_main_context_new())
        , loop_(g_main_loop_new(context_.get(), FALSE))
        , pipeline_(
              context_.get(), [this](GstObject *src, const std::string &msg) { onError(src, msg); })
    { }

    int run()
    {
        // libsoup 3 only runs a session's queued async work when its context
        // is the thread-default one of the thread iterating it.
        g_main_context_push_thread_default(context_.get());
        int code = runPushed();
        g_main_context_pop_thread_default(context_.get());
        return code;
    }

private:
    int runPushed()
    {
        // Start-up: a bad pattern or a missing plugin throws StartupError.
        source_ = std::make_unique<LiveSource>(pipeline_.bin(), options_.media);
        installTestSignals();
        participant_ = std::make_unique<Participant>(context_.get(), pipeline_.bin(), *source_,
            options_.participant,
            Participant::Callbacks { {}, [this](const std::string &code) {
                                        RC_LOG_ERROR(
                                            "the room server refused us (%s)", code.c_str());
                                        finish(exitcode::unavailable);
                                    } });
        if (!pipeline_.play())
            throw StartupError(exitcode::software, "cannot start the media pipeline");
        source_->startResizing(context_.get());

        watchSignal(SIGINT);
        watchSignal(SIGTERM);
        if (options_.durationSeconds > 0)
            durationTimer_ = addTimeout(
                context_.get(), std::chrono::seconds(options_.durationSeconds), [this] {
                    finish(exitcode::ok);
                    return false;
                });
        participant_->start();
        g_main_loop_run(loop_.get());

        participant_->stop();
        // Give libsoup a moment to flush leave and the close frame; the server
        // treats a vanished connection as a leave anyway.
        iterateUntil(
            context_.get(), [] { return false; }, std::chrono::milliseconds(300));
        participant_.reset();
        pipeline_.stop();
        return exitCode_;
    }

    // --pattern flash-beep and --pause-at/--pause-for act on the raw media at the encoders.
    void installTestSignals()
    {
        if (!options_.flashBeep && options_.pauseFor <= 0)
            return;
        GPtr<GstElement> venc = adopt(gst_bin_get_by_name(pipeline_.bin(), "video-encoder"));
        GPtr<GstElement> aenc = adopt(gst_bin_get_by_name(pipeline_.bin(), "audio-encoder"));
        if (!venc || !aenc)
            throw StartupError(exitcode::software, "no encoders to attach the test signals to");
        GPtr<GstPad> vsink = adopt(gst_element_get_static_pad(venc.get(), "sink"));
        GPtr<GstPad> asink = adopt(gst_element_get_static_pad(aenc.get(), "sink"));
        if (options_.flashBeep)
            installFlashBeep(vsink.get(), asink.get(),
                static_cast<GstClockTime>(options_.flashPeriodSeconds) * GST_SECOND,
                options_.flashFrames);
        if (options_.pauseFor > 0)
            installSendPause(vsink.get(), asink.get(),
                static_cast<GstClockTime>(options_.pauseAt * GST_SECOND),
                static_cast<GstClockTime>(options_.pauseFor * GST_SECOND));
    }

    void watchSignal(int signum)
    {
        signalSources_.push_back(watchUnixSignal(context_.get(), signum, [this] {
            RC_LOG_INFO("signal received, leaving");
            finish(exitcode::ok);
        }));
    }

    void onError(GstObject *src, const std::string &message)
    {
        if (participant_ && participant_->handleElementError(src, message))
            return; // one peer's session failed; the others go on
        RC_LOG_ERROR("media pipeline failed in %s: %s", GST_OBJECT_NAME(src), message.c_str());
        finish(exitcode::software);
    }

    void finish(int code)
    {
        if (finishing_)
            return;
        finishing_ = true;
        exitCode_ = code;
        g_main_loop_quit(loop_.get());
    }

    const TestPeerOptions &options_;
    GPtr<GMainContext> context_;
    GPtr<GMainLoop> loop_;
    PipelineHost pipeline_;
    std::unique_ptr<LiveSource> source_;
    std::unique_ptr<Participant> participant_;
    std::vector<GPtr<GSource>> signalSources_;
    GPtr<GSource> durationTimer_;
    bool finishing_ = false;
    int exitCode_ = exitcode::ok;
};

} // namespace

int main(int argc, char **argv)
{
    log::setProgram("testpeer");
    try {
        auto options = parseTestPeerOptions(argc, argv);
        if (!options)
            return exitcode::ok;
        log::Level level;
        log::parseLevel(options->logLevel, level);
        log::setLevel(level);
        gst_init(nullptr, nullptr);
        TestPeerProcess process(*options);
        return process.run();
    } catch (const StartupError &e) {
        std::cerr << "roomcast-testpeer: " << e.what() << "\n";
        return e.exitCode();
    } catch (const std::exception &e) {
        std::cerr << "roomcast-testpeer: " << e.what() << "\n";
        return exitcode::software;
    }
}
