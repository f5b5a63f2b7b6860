// libFuzzer target: a control API start-output body, then its params checked against the
// parameter specs of the shipped templates' kinds.
#include "gateway/ops/output_params.h"
#include "gateway/ops/start_output_body.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace rc::ops;
    static const std::vector<ParamSpec> specs = {
        { "url", ParamKind::url, { "rtmp", "rtmps" }, true },
        { "label", ParamKind::string, {}, false, 32 },
        { "bitrate", ParamKind::integer, {}, false, 0, 100, 20000 },
    };
    const std::string text(reinterpret_cast<const char *>(data), size);
    (void)isOutputId(text);
    auto parsed = parseStartOutputBody(text, 32);
    auto *body = std::get_if<StartOutputBody>(&parsed);
    if (!body)
        return 0;
    auto checked = validateParams(specs, body->params);
    for (const auto &[name, value] : checked.values)
        (void)redactUrl(value);
    std::string why;
    (void)isAllowedUrl(body->pipeline, { "rtmp", "http" }, 0, why);
    (void)parseParamKind(body->pipeline);
    return 0;
}
