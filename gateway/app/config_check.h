// --check-config and start-up: validates options and loads every --pipeline template, proving each
// instantiates.
//
// Start-up code only; call after gst_init on the main thread. Throws rc::StartupError(78).
#pragma once

#include "common/gst/required_elements.h"
#include "gateway/app/gateway_options.h"
#include "gateway/templates/pipeline_template.h"

#include <string>
#include <vector>

namespace rc::gateway {

// Validates the options (validateGatewayOptions) and loads every template
// named by --pipeline from options.pipelinesDirs: each must exist, parse,
// and instantiate cleanly with dummy variables into a bin whose pads match
// its declared codecs. Returns the templates in --pipeline order.
std::vector<PipelineTemplate> loadActiveTemplates(const GatewayOptions &options);

// Every template the control API may start: each NAME.pipeline in
// options.pipelinesDirs (the first folder holding a NAME wins, as for
// --pipeline) that loads and passes checkTemplate, sorted by name. A file
// that fails is skipped and its reason appended to skipped: the API simply
// does not offer it.
std::vector<PipelineTemplate> loadAvailableTemplates(
    const GatewayOptions &options, std::vector<std::string> &skipped);

// The same checks for one template (used by loadActiveTemplates and tests).
void checkTemplate(const PipelineTemplate &tpl);

// Where loadAvailableTemplates proves the templates that are not active: checkTemplate
// instantiates a template, which loads every plugin it names (x264, libav with libavcodec and
// libavfilter, hls, rtmp2...) into the process for good: about 35 MB of RSS in an idle gateway
// for templates that may never run. With a helper set (the gateway's own binary, see
// kCheckTemplatesArg), one child process checks them all and only its verdicts come back; the
// plugins load in the gateway when the API actually starts such a template. Without one (unit
// tests), they are checked in this process.
void setTemplateCheckHelper(std::string executable);
// argv[1] that makes roomcast the helper: "roomcast --check-templates-child PATH...", one line
// on stdout per PATH: "ok" or "skip REASON" (exit 0), see runTemplateCheckChild.
inline constexpr const char *kCheckTemplatesArg = "--check-templates-child";
// The helper's side (gst_init done): checks each path; returns the exit code.
int runTemplateCheckChild(int argc, char *argv[]);

// The one list of elements the gateway makes in code for these templates, beyond what the
// templates themselves name (checkTemplate proves those): every participant's (PeerReceiver,
// StreamLinker), and the room composite's (RoomMixer) when a template is room-scope.
RequiredElements requiredElements(const std::vector<PipelineTemplate> &templates);

} // namespace rc::gateway
