// Builds one GstBin from a pipeline template: parse, explicit ghost pads, code-set output location.
//
// Call on the thread that owns the pipeline (the gateway's main context);
// gst_init must have been called. Returns errors, never throws.
#pragma once

#include "gst_ptr.h"
#include "pipeline_template.h"
#include "template_variables.h"

#include <optional>
#include <string>

namespace rc::gateway {

// One instance of a template. Owned by the output/recorder that created it;
// the bin's floating reference is sunk, so after gst_bin_add() the caller and
// the pipeline each hold a reference.
struct TemplateInstance {
    GPtr<GstElement> bin;          // sink pads "video" and/or "audio" (ghost pads)
    bool hasVideo = false, hasAudio = false;
    std::string outputPath;        // "" if the template writes no file
};

// The description is parsed with GST_PARSE_FLAG_FATAL_ERRORS and without
// ghosting unlinked pads. The elements named "video" and "audio" (either may
// be absent, not both) get their unlinked sink pad ghosted as "video"/"audio".
// The element named "file", when present, gets "location" = outputPath
// (outputPath must then be non-empty); a template without one writes nothing
// and outputPath is ignored. The bin is named "<template>-<participant>-<n>"
// (unique in the process; rename it if you like before adding it).
std::optional<TemplateInstance> instantiateTemplate(const PipelineTemplate &tpl, const TemplateVariables &vars,
                                                    const std::string &outputPath, std::string &error);

} // namespace rc::gateway
