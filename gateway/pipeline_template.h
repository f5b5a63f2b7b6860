// A pipeline template: one *.pipeline file (a key: value header, then a gst-launch body) and its lookup.
//
// Start-up code: loading throws rc::StartupError(exitcode::config, "FILE:LINE: ...").
// A PipelineTemplate is a plain value; copy it freely to any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rc::gateway {

enum class TemplateScope { participant, room };

// A parameter the template declares ("param: NAME = DEFAULT"). Reserved for
// later per-output overrides: parsed and checked (name [a-z0-9_-], default of
// [A-Za-z0-9._-]) but not yet substitutable.
struct TemplateParam {
    std::string name;
    std::string defaultValue;
};

struct PipelineTemplate {
    std::string name;                      // file stem, e.g. "record-mkv"
    std::string path;                      // the file it was read from
    TemplateScope scope = TemplateScope::participant;
    std::vector<std::string> videoCodecs;  // preference order; RTP encoding names: "VP8","VP9","H264","AV1"
    std::vector<std::string> audioCodecs;  // e.g. "OPUS"
    std::string extension;                 // file extension of its output, e.g. "mkv", "webm", "mp4"
    std::string description;               // one line for humans ("description:" header)
    std::string launch;                    // gst-launch text with ${variable} placeholders
    int launchLine = 0;                    // line of the file where the body starts (for messages)
    std::vector<TemplateParam> params;     // declared parameters, in file order

    bool acceptsVideoCodec(const std::string &codec) const;
    bool acceptsAudioCodec(const std::string &codec) const;
};

// The RTP encoding names a template may list.
const std::vector<std::string> &knownVideoCodecs();
const std::vector<std::string> &knownAudioCodecs();

const char *scopeName(TemplateScope scope) noexcept;

// Parses a template from text; path is used for the name and in messages.
// Checks the header and the ${...} placeholders, not the gst-launch syntax
// (that needs GStreamer: see instantiateTemplate / loadActiveTemplates).
PipelineTemplate parseTemplate(const std::string &path, const std::string &text);

// Reads and parses one file.
PipelineTemplate loadTemplate(const std::string &path);

// The file NAME.pipeline in the first of dirs that has one (like $PATH: put
// overriding folders first). NAME must itself be a safe file stem
// ([A-Za-z0-9._-], no leading '.'). Throws StartupError(78) naming every folder searched.
PipelineTemplate findTemplate(const std::vector<std::string> &dirs, const std::string &name);

} // namespace rc::gateway
