// roomcast: options, --check-config, GStreamer plugin check, then the Gateway; maps failures to
// sysexits codes.
#include "common/base/exit_codes.h"
#include "common/base/log.h"
#include "common/base/startup_error.h"
#include "gateway/app/config_check.h"
#include "gateway/app/gateway.h"
#include "gateway/app/gateway_options.h"
#include "gateway/media/stream_linker.h"
#include "gateway/participant/sdp_tuning.h"
#include "gateway/templates/template_codecs.h"

#include <gst/gst.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

namespace {

// Every element the gateway makes in code (config_check's one list; the templates' own
// elements are proven by checkTemplate), and a receivable codec of each kind.
void checkRequiredElements(const std::vector<rc::gateway::PipelineTemplate> &templates)
{
    using namespace rc::gateway;
    if (auto missing = rc::firstMissing(requiredElements(templates)))
        throw rc::StartupError(rc::exitcode::unavailable,
            "GStreamer element '" + missing->factory + "' is missing (" + missing->package + ")");
    // A codec whose depayloader is missing is not offered (the gateway logs
    // it); a kind with no codec left at all cannot be recorded.
    for (MediaKind kind : { MediaKind::video, MediaKind::audio }) {
        bool any = false;
        std::string missing;
        for (const auto &codec :
            offeredCodecs(kind, templateCodecs(kind, templates), hasRoomScope(templates))) {
            if (StreamLinker::canDepayload(codec))
                any = true;
            else
                missing += (missing.empty() ? "" : ", ") + StreamLinker::elementsFor(codec).front();
        }
        if (!any)
            throw rc::StartupError(rc::exitcode::unavailable,
                std::string("no ") + mediaKindName(kind)
                    + " codec of the templates can be received: " + "GStreamer elements missing: "
                    + missing);
    }
}

} // namespace

int main(int argc, char *argv[])
{
    rc::log::setProgram("roomcast");
    // SIGINT/SIGTERM/SIGHUP wait, pending, until the gateway's handlers are installed at the
    // end of start(): a stop asked for during start-up (plugin scan, templates, joins) is then
    // a clean stop, not a kill by the default action. Threads started meanwhile inherit the
    // mask, so the signal reaches the main thread once it unblocks.
    sigset_t deferred;
    sigemptyset(&deferred);
    for (int signum : { SIGINT, SIGTERM, SIGHUP })
        sigaddset(&deferred, signum);
    pthread_sigmask(SIG_BLOCK, &deferred, nullptr);
    if (argc >= 2 && std::strcmp(argv[1], rc::gateway::kCheckTemplatesArg) == 0) {
        gst_init(nullptr, nullptr);
        return rc::gateway::runTemplateCheckChild(argc, argv);
    }
    // The control API's other templates are proven in a child: their plugins stay out of the
    // gateway until one is started (see setTemplateCheckHelper).
    rc::gateway::setTemplateCheckHelper("/proc/self/exe");
    try {
        auto options = rc::gateway::parseGatewayOptions(argc, argv);
        if (!options)
            return rc::exitcode::ok;
        rc::log::Level level;
        if (rc::log::parseLevel(options->logLevel, level))
            rc::log::setLevel(level);
        gst_init(nullptr, nullptr);

        auto templates = rc::gateway::loadActiveTemplates(*options);
        if (options->checkConfig) {
            std::printf("configuration OK: %zu pipeline template(s)", templates.size());
            for (const auto &tpl : templates)
                std::printf(" %s", tpl.name.c_str());
            std::printf("\n");
            if (options->apiEnabled) {
                std::vector<std::string> skipped;
                auto available = rc::gateway::loadAvailableTemplates(*options, skipped);
                std::printf("control API can start:");
                for (const auto &tpl : available)
                    std::printf(" %s", tpl.name.c_str());
                std::printf("\n");
                for (const auto &why : skipped)
                    std::printf("not startable: %s\n", why.c_str());
            }
            return rc::exitcode::ok;
        }
        checkRequiredElements(templates);
        if (options->rooms.empty() && !options->apiEnabled)
            throw rc::StartupError(
                rc::exitcode::usage, "no --room given and --api-listen none: nothing to record");

        int code = 0;
        {
            rc::gateway::Gateway gateway(std::move(*options), std::move(templates));
            code = gateway.run();
        }
        return code;
    } catch (const rc::StartupError &e) {
        std::fprintf(stderr, "roomcast: %s\n", e.what());
        return e.exitCode();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "roomcast: internal error: %s\n", e.what());
        return rc::exitcode::software;
    }
}
