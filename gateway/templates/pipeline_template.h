// A pipeline template: one *.pipeline file (a key: value header, then a gst-launch body) and its
// lookup.
//
// Start-up code: loading throws rc::StartupError(exitcode::config, "FILE:LINE: ...").
// A PipelineTemplate is a plain value; copy it freely to any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rc::gateway {

enum class TemplateScope { participant, room };

enum class TemplateParamKind { string, integer, url, secret };

// Longest value a secret parameter may have.
constexpr long long kMaxSecretLength = 256;

// What a participant's video shows in this template's output while the sender is away
// ("gap-video:" header): the last frame (players hold it; nothing is written) or black.
enum class GapVideo { freeze, black };

// A parameter the template declares, e.g.
//   param: video_bitrate int min=200 max=20000 default=2500
//   param: rtmp_url url required schemes=rtmp,rtmps set=sink.location
//   param: passphrase secret min=10 max=79 set=sink.passphrase
//   param: latency int min=20 max=8000 default=200 set=sink.latency
//   param: preset string default=superfast values=ultrafast,superfast,veryfast
//   param: quality = high                       (old form: a string with a default)
// string and int values are checked ([A-Za-z0-9._-], one of values= when given / in range)
// and may be used as ${NAME} in the body; a url is never pasted into the body: code sets
// it on the element property named by "set=" after parsing. A secret (a passphrase: printable
// ASCII, min..max characters, no default) is likewise only ever set by code, and never logged
// nor shown by the API. An int with set= is set by code on that property (an int, unsigned or
// enum property; an enum's value must be one of its values). Values come from
// the default, then --param / --rtmp-url, then the control API's request.
// Room-scope templates may declare width, height and framerate (int): the
// size and rate of the composite they receive (default 1280x720@30).
struct TemplateParam
{
    std::string name;
    TemplateParamKind kind = TemplateParamKind::string;
    bool required = false;
    std::string defaultValue; // "" = none
    std::vector<std::string> schemes; // url: allowed lower-case schemes
    std::vector<std::string> values; // string: the only values allowed (empty: any token)
    long long minValue = 0, maxValue = 0; // int: inclusive range (both 0 = any non-negative int);
                                          // secret: its length range
    std::string setElement, setProperty; // url, secret, int: where code puts the value
};

struct PipelineTemplate
{
    std::string name; // file stem, e.g. "record-mkv"
    std::string path; // the file it was read from
    TemplateScope scope = TemplateScope::participant;
    std::vector<std::string>
        videoCodecs; // preference order; RTP encoding names: "VP8","VP9","H264","AV1"
    std::vector<std::string> audioCodecs; // e.g. "OPUS"
    std::string extension; // file extension of its output, e.g. "mkv", "webm", "mp4"
    std::string description; // one line for humans ("description:" header)
    GapVideo gapVideo = GapVideo::freeze; // "gap-video:" header
    std::string launch; // gst-launch text with ${variable} placeholders
    int launchLine = 0; // line of the file where the body starts (for messages)
    std::vector<TemplateParam> params; // declared parameters, in file order

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
