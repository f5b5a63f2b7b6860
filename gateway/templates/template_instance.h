// Builds one GstBin from a pipeline template: parse, explicit ghost pads, code-set output location.
//
// Call on the thread that owns the pipeline (the gateway's main context);
// gst_init must have been called. Returns errors, never throws.
#pragma once

#include "common/gst/gst_ptr.h"
#include "gateway/templates/pipeline_template.h"
#include "gateway/templates/template_variables.h"

#include <map>
#include <optional>
#include <string>

namespace rc::gateway {

// One instance of a template. Owned by the output/recorder that created it;
// the bin's floating reference is sunk, so after gst_bin_add() the caller and
// the pipeline each hold a reference.
struct TemplateInstance
{
    GPtr<GstElement> bin; // sink pads "video" and/or "audio" (ghost pads)
    bool hasVideo = false, hasAudio = false;
    std::string outputPath; // "" if the template writes no file
    std::string url; // what a url parameter's set= property got ("" if none); a secret
    std::string hlsDir; // the folder the element named "hls" writes to ("" if none)
};

// A participant-scope template's capsfilter of this name gets its caps' channels set to what the
// participant's Opus really carries (see output/source_channels.h); it must be a capsfilter.
inline constexpr const char *kAudioChannelsElement = "audio-channels";

// Where a participant-scope template publishes a url parameter: the URL with
// "/" + sanitizeFileComponent(participant) appended to its path (before any
// "?query"), so that each participant is its own stream
// (rtmp://host/live -> rtmp://host/live/p1). Room scope: the URL as given.
std::string urlForInstance(
    const PipelineTemplate &tpl, const std::string &url, const std::string &participant);

// The description is parsed with GST_PARSE_FLAG_FATAL_ERRORS and without
// ghosting unlinked pads. The elements named "video" and "audio" (either may
// be absent, not both) get their unlinked sink pad ghosted as "video"/"audio".
// The element named "file", when present, gets "location" = outputPath
// (outputPath must then be non-empty); a template without one writes nothing
// and outputPath is ignored. An element named kAudioChannelsElement must be a
// capsfilter. The bin is named "<template>-<participant>-<n>"
// (unique in the process; rename it if you like before adding it).
//
// Parameters (params: resolved and validated, see output_plan.h): each
// string/int value is substituted as ${NAME}; each url value is set by code on
// its set= ELEMENT.PROPERTY (see urlForInstance), never pasted into the text, and so is
// each secret value and each int value declared with set=.
// A declared parameter used as ${NAME} without a value is an error. The
// element named "hls" (hlssink2/hlssink3), when present, gets
// location=<dir>/segment%05d.ts and playlist-location=<dir>/playlist.m3u8,
// dir = <sessionDir>/<value of parameter "directory", default "hls">
// (created, mode 0750); sessionDir "" leaves it alone (checks only).
std::optional<TemplateInstance> instantiateTemplate(const PipelineTemplate &tpl,
    const TemplateVariables &vars, const std::map<std::string, std::string> &params,
    const std::string &outputPath, const std::string &sessionDir, std::string &error);

// For checks and tests: the parameters get their defaults, or a harmless
// dummy when required without one (urls are then not set), and no hls folder.
std::optional<TemplateInstance> instantiateTemplate(const PipelineTemplate &tpl,
    const TemplateVariables &vars, const std::string &outputPath, std::string &error);

} // namespace rc::gateway
