// The codec lists of the active templates; see template_codecs.h.
#include "gateway/templates/template_codecs.h"

#include <algorithm>

namespace rc::gateway {

std::vector<std::vector<std::string>> templateCodecs(
    MediaKind kind, const std::vector<PipelineTemplate> &templates)
{
    std::vector<std::vector<std::string>> out;
    for (const auto &tpl : templates)
        if (tpl.scope == TemplateScope::participant)
            out.push_back(kind == MediaKind::video ? tpl.videoCodecs : tpl.audioCodecs);
    return out;
}

bool hasRoomScope(const std::vector<PipelineTemplate> &templates)
{
    return std::any_of(templates.begin(), templates.end(),
        [](const PipelineTemplate &tpl) { return tpl.scope == TemplateScope::room; });
}

} // namespace rc::gateway
