// Which codecs the active templates take, as the offer's codec order wants them: each
// participant-scope template's list for a kind, in template order, and whether a room-scope
// template (the composite, which decodes) is among them.
//
// Pure functions on PipelineTemplate values; safe on any thread.
#pragma once

#include "gateway/media/media_kind.h"
#include "gateway/templates/pipeline_template.h"

#include <string>
#include <vector>

namespace rc::gateway {

// The codecs each participant-scope template accepts for kind, in template order, each list in
// the template's preference order as written (an empty list for a template that takes none of
// that kind). Room-scope templates are left out: see hasRoomScope.
std::vector<std::vector<std::string>> templateCodecs(
    MediaKind kind, const std::vector<PipelineTemplate> &templates);

// Whether any of templates is room-scope (a composite that decodes what it gets).
bool hasRoomScope(const std::vector<PipelineTemplate> &templates);

} // namespace rc::gateway
