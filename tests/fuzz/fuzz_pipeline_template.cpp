// libFuzzer target: the pipeline template parser, then what the gateway does with a parsed
// template (placeholders, start-up parameters, variable expansion).
#include "common/base/startup_error.h"
#include "gateway/templates/output_plan.h"
#include "gateway/templates/pipeline_template.h"
#include "gateway/templates/template_variables.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace rc::gateway;
    const std::string text(reinterpret_cast<const char *>(data), size);
    PipelineTemplate tpl;
    try {
        tpl = parseTemplate("fuzz.pipeline", text); // the stem names it "fuzz"
    } catch (const rc::StartupError &) {
        return 0; // a refused template: documented start-up failure
    }
    (void)tpl.acceptsVideoCodec("VP8");
    (void)tpl.acceptsAudioCodec("OPUS");
    for (const auto &param : tpl.params) {
        (void)paramSpecFor(param);
        std::string why;
        (void)checkParamValue(param, param.defaultValue, why);
        (void)checkParamValue(param, "rtmp://127.0.0.1/live/key", why);
    }
    ParamMap resolved;
    std::string why;
    (void)resolveParams(tpl, {}, resolved, why);
    try {
        (void)placeholdersIn(tpl.launch);
        TemplateVariables vars { "room", "peer-1", "20261204T120000Z", "/tmp/rec", resolved };
        (void)expandVariables(tpl.launch, vars);
    } catch (const std::invalid_argument &) {
        // unknown or unsafe variables: documented refusal of expandVariables
    }
    try {
        (void)resolveStartupParams({ tpl }, {});
    } catch (const rc::StartupError &) { }
    return 0;
}
