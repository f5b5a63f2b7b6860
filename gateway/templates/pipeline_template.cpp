// Parsing and lookup of *.pipeline template files; see pipeline_template.h.
#include "gateway/templates/pipeline_template.h"

#include "common/base/exit_codes.h"
#include "common/base/startup_error.h"
#include "gateway/templates/output_plan.h"
#include "gateway/templates/template_variables.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace rc::gateway {
namespace {

constexpr size_t maxTemplateBytes = 64 * 1024;

std::string trim(std::string_view s)
{
    const char *ws = " \t\r\n";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos)
        return {};
    auto e = s.find_last_not_of(ws);
    return std::string(s.substr(b, e - b + 1));
}

[[noreturn]] void fail(const std::string &path, int line, const std::string &message)
{
    std::string where = line > 0 ? path + ":" + std::to_string(line) : path;
    throw StartupError(exitcode::config, where + ": " + message);
}

std::string upper(std::string s)
{
    for (char &c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// "a,b,c" as its items; an empty item (",," or a trailing comma) stays, for the caller to refuse.
std::vector<std::string> splitCommas(const std::string &s)
{
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
        out.push_back(item);
    return out;
}

std::vector<std::string> parseCodecList(const std::string &path, int line, const std::string &value,
    const std::vector<std::string> &known, const char *kind)
{
    std::vector<std::string> out;
    for (std::string item : splitCommas(value)) {
        item = upper(trim(item));
        if (item.empty())
            fail(path, line, std::string("empty entry in the ") + kind + " codec list");
        if (std::find(known.begin(), known.end(), item) == known.end()) {
            std::string list;
            for (const auto &k : known)
                list += (list.empty() ? "" : ", ") + k;
            fail(path, line,
                std::string("unknown ") + kind + " codec '" + item + "' (known: " + list + ")");
        }
        if (std::find(out.begin(), out.end(), item) != out.end())
            fail(path, line, std::string(kind) + " codec '" + item + "' listed twice");
        out.push_back(item);
    }
    return out;
}

bool isSafeStem(const std::string &s)
{
    return !s.empty() && s.size() <= 64 && s[0] != '.' && isSafeVariableValue(s);
}

bool isExtension(const std::string &s)
{
    if (s.empty() || s.size() > 8)
        return false;
    return std::all_of(s.begin(), s.end(),
        [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

bool isParamName(const std::string &s)
{
    if (s.empty() || s.size() > 32)
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

std::vector<std::string> splitWords(const std::string &s)
{
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string w;
    while (in >> w)
        out.push_back(w);
    return out;
}

bool parseInteger(const std::string &text, long long &out)
{
    if (text.empty() || text.size() > 18)
        return false;
    size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size())
        return false;
    for (size_t j = i; j < text.size(); ++j)
        if (text[j] < '0' || text[j] > '9')
            return false;
    out = std::stoll(text);
    return true;
}

bool isElementName(const std::string &s)
{
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '_' || c == '-';
    });
}

bool isPropertyName(const std::string &s)
{
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

const TemplateParam *findParam(const PipelineTemplate &tpl, const std::string &name)
{
    for (const auto &p : tpl.params)
        if (p.name == name)
            return &p;
    return nullptr;
}

// "NAME = DEFAULT" (old form: a string) or
// "NAME KIND [required] [default=V] [min=N] [max=N] [schemes=a,b] [values=a,b]
// [set=ELEMENT.PROPERTY]".
// KIND: string, int, url or secret (min/max: an int's range, a secret's length).
TemplateParam parseParam(const std::string &path, int lineNo, const std::string &value)
{
    TemplateParam param;
    const size_t nameEnd = value.find_first_of(" \t=");
    param.name = value.substr(0, nameEnd);
    if (!isParamName(param.name))
        fail(path, lineNo,
            "parameter name must be 1 to 32 characters of [a-z0-9_-], got '" + param.name + "'");
    for (const auto &builtin : templateVariableNames())
        if (param.name == builtin)
            fail(path, lineNo,
                "parameter name '" + param.name + "' is reserved for the gateway's own variable");
    if (param.name == "recordings_dir")
        fail(path, lineNo, "parameter name 'recordings_dir' is reserved");
    const std::string rest
        = nameEnd == std::string::npos ? std::string() : trim(value.substr(nameEnd));
    if (rest.empty() || rest[0] == '=') {
        // Old form: a string parameter with a default.
        const std::string def = rest.empty() ? std::string() : trim(rest.substr(1));
        if (!def.empty() && !isSafeVariableValue(def))
            fail(path, lineNo,
                "default of parameter '" + param.name + "' must be characters of [A-Za-z0-9._-]");
        param.kind = TemplateParamKind::string;
        param.defaultValue = def;
        return param;
    }
    const auto words = splitWords(rest);
    const std::string &kind = words[0];
    if (kind == "string")
        param.kind = TemplateParamKind::string;
    else if (kind == "int")
        param.kind = TemplateParamKind::integer;
    else if (kind == "url")
        param.kind = TemplateParamKind::url;
    else if (kind == "secret")
        param.kind = TemplateParamKind::secret;
    else
        fail(path, lineNo,
            "parameter '" + param.name + "': kind must be string, int, url or secret, got '" + kind
                + "'");
    bool hasMin = false, hasMax = false, hasDefault = false, hasSchemes = false;
    std::set<std::string> given;
    for (size_t i = 1; i < words.size(); ++i) {
        const std::string &w = words[i];
        const size_t eq = w.find('=');
        const std::string key = w.substr(0, eq);
        const std::string val = eq == std::string::npos ? std::string() : w.substr(eq + 1);
        if (!given.insert(key).second)
            fail(path, lineNo, "parameter '" + param.name + "': '" + key + "' given twice");
        const std::string what = "parameter '" + param.name + "': ";
        if (w == "required") {
            param.required = true;
        } else if (eq == std::string::npos) {
            fail(path, lineNo,
                what + "unknown attribute '" + w
                    + "' (known: required, default=, min=, max=, schemes=, values=, set=)");
        } else if (key == "default") {
            if (val.empty())
                fail(path, lineNo, what + "empty default=");
            param.defaultValue = val;
            hasDefault = true;
        } else if (key == "min" || key == "max") {
            if (param.kind != TemplateParamKind::integer && param.kind != TemplateParamKind::secret)
                fail(path, lineNo, what + key + "= applies to int and secret parameters only");
            long long n = 0;
            if (!parseInteger(val, n))
                fail(path, lineNo, what + key + "= must be an integer, got '" + val + "'");
            (key == "min" ? param.minValue : param.maxValue) = n;
            (key == "min" ? hasMin : hasMax) = true;
        } else if (key == "schemes") {
            if (param.kind != TemplateParamKind::url)
                fail(path, lineNo, what + "schemes= applies to url parameters only");
            for (const std::string &scheme : splitCommas(val)) {
                if (scheme.empty() || !std::all_of(scheme.begin(), scheme.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
                            || c == '-' || c == '.';
                    }))
                    fail(path, lineNo,
                        what + "schemes= must be a comma-separated list of lower-case URL schemes");
                param.schemes.push_back(scheme);
            }
            hasSchemes = !param.schemes.empty();
            if (!hasSchemes)
                fail(path, lineNo, what + "empty schemes=");
        } else if (key == "values") {
            // A closed list (an encoder preset, say): the API refuses anything else with 400
            // instead of the element failing to start.
            if (param.kind != TemplateParamKind::string)
                fail(path, lineNo, what + "values= applies to string parameters only");
            for (const std::string &one : splitCommas(val))
                if (!isSafeVariableValue(one)
                    || std::find(param.values.begin(), param.values.end(), one)
                        != param.values.end())
                    fail(path, lineNo,
                        what
                            + "values= must be a comma-separated list of distinct values of "
                              "[A-Za-z0-9._-]");
                else
                    param.values.push_back(one);
            if (param.values.empty())
                fail(path, lineNo, what + "empty values=");
        } else if (key == "set") {
            // A string is only ever ${NAME} text; url and secret values are only ever set by
            // code; an int may be either (a property that takes a number, or an enum's value).
            if (param.kind == TemplateParamKind::string)
                fail(path, lineNo,
                    what + "set= applies to url, secret and int parameters only (string ones are ${"
                        + param.name + "} in the body)");
            const size_t dot = val.find('.');
            if (dot == std::string::npos || !isElementName(val.substr(0, dot))
                || !isPropertyName(val.substr(dot + 1)))
                fail(path, lineNo, what + "set= must be ELEMENT.PROPERTY, got '" + val + "'");
            param.setElement = val.substr(0, dot);
            param.setProperty = val.substr(dot + 1);
        } else {
            fail(path, lineNo,
                what + "unknown attribute '" + key
                    + "' (known: required, default=, min=, max=, schemes=, values=, set=)");
        }
    }
    if (param.kind == TemplateParamKind::integer) {
        // Both 0 means "any non-negative integer"; one bound alone keeps the other open.
        if (hasMin && !hasMax)
            param.maxValue = std::numeric_limits<long long>::max();
        if (hasMax && !hasMin)
            param.minValue = 0;
        if (param.minValue > param.maxValue)
            fail(path, lineNo, "parameter '" + param.name + "': min= is larger than max=");
    }
    if (param.kind == TemplateParamKind::secret) {
        // A secret's length: SRT passphrases, for instance, are 10..79 characters.
        if (!hasMin)
            param.minValue = 1;
        if (!hasMax)
            param.maxValue = kMaxSecretLength;
        if (param.minValue < 1 || param.maxValue > kMaxSecretLength
            || param.minValue > param.maxValue)
            fail(path, lineNo,
                "secret parameter '" + param.name
                    + "': length bounds must satisfy 1 <= min <= max <= "
                    + std::to_string(kMaxSecretLength));
        if (param.setElement.empty())
            fail(path, lineNo,
                "secret parameter '" + param.name
                    + "' needs set=ELEMENT.PROPERTY (a secret is never pasted into the "
                      "description)");
        if (hasDefault)
            fail(path, lineNo,
                "secret parameter '" + param.name
                    + "' may not have a default (it would be in the "
                      "template for everyone to read)");
    }
    if (param.kind == TemplateParamKind::url) {
        if (param.setElement.empty())
            fail(path, lineNo,
                "url parameter '" + param.name
                    + "' needs set=ELEMENT.PROPERTY (a URL is never pasted into the description)");
        if (!hasSchemes)
            fail(path, lineNo,
                "url parameter '" + param.name + "' needs schemes=a,b (the URL schemes it allows)");
    }
    if (hasDefault) {
        std::string why;
        if (!checkParamValue(param, param.defaultValue, why))
            fail(path, lineNo, "default of parameter '" + param.name + "' " + why);
    }
    return param;
}

} // namespace

bool PipelineTemplate::acceptsVideoCodec(const std::string &codec) const
{
    return std::find(videoCodecs.begin(), videoCodecs.end(), upper(codec)) != videoCodecs.end();
}

bool PipelineTemplate::acceptsAudioCodec(const std::string &codec) const
{
    return std::find(audioCodecs.begin(), audioCodecs.end(), upper(codec)) != audioCodecs.end();
}

const std::vector<std::string> &knownVideoCodecs()
{
    static const std::vector<std::string> codecs { "VP8", "VP9", "H264", "AV1" };
    return codecs;
}

const std::vector<std::string> &knownAudioCodecs()
{
    static const std::vector<std::string> codecs { "OPUS" };
    return codecs;
}

const char *scopeName(TemplateScope scope) noexcept
{
    return scope == TemplateScope::room ? "room" : "participant";
}

PipelineTemplate parseTemplate(const std::string &path, const std::string &text)
{
    PipelineTemplate tpl;
    tpl.path = path;
    tpl.name = std::filesystem::path(path).stem().string();
    if (!isSafeStem(tpl.name))
        fail(path, 0,
            "template name '" + tpl.name + "' must be 1 to 64 characters of [A-Za-z0-9._-]");
    if (text.size() > maxTemplateBytes)
        fail(path, 0, "template larger than 64 KiB");
    if (text.find('\0') != std::string::npos)
        fail(path, 0, "template contains a NUL byte");

    std::istringstream in(text);
    std::string raw;
    int lineNo = 0;
    bool inBody = false, sawScope = false;
    int separatorLine = 0;
    std::set<std::string> seen;
    std::string body;
    while (std::getline(in, raw)) {
        ++lineNo;
        if (inBody) {
            std::string t = trim(raw);
            if (t.empty() || t[0] == '#') {
                body += '\n'; // comments are not gst-launch syntax; keep line numbers
                continue;
            }
            try {
                for (const auto &name : placeholdersIn(raw)) {
                    const auto &known = templateVariableNames();
                    if (const TemplateParam *p = findParam(tpl, name)) {
                        // A URL may carry a stream key and any character: code sets it on
                        // the element property named by set=, never as description text.
                        if (p->kind == TemplateParamKind::url
                            || p->kind == TemplateParamKind::secret)
                            fail(path, lineNo,
                                std::string(p->kind == TemplateParamKind::url ? "url" : "secret")
                                    + " parameter '" + name + "' may not be used as ${" + name
                                    + "}: the gateway sets it on " + p->setElement + "."
                                    + p->setProperty + " itself");
                        continue;
                    }
                    if (std::find(known.begin(), known.end(), name) == known.end()) {
                        if (name == "recordings_dir")
                            fail(path, lineNo,
                                "${recordings_dir} may not be used: the gateway sets the location "
                                "of the element named 'file' itself");
                        fail(path, lineNo,
                            "unknown variable '${" + name
                                + "}' (known: ${room}, ${participant}, ${session_start} and the "
                                  "declared string/int parameters)");
                    }
                }
            } catch (const std::invalid_argument &e) {
                fail(path, lineNo, e.what());
            }
            if (tpl.launchLine == 0)
                tpl.launchLine = lineNo;
            body += raw;
            body += '\n';
            continue;
        }
        std::string line = trim(raw);
        if (line.empty() || line[0] == '#')
            continue;
        if (line == "---") {
            inBody = true;
            separatorLine = lineNo;
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string::npos)
            fail(path, lineNo,
                "expected 'key: value' or '---' before the pipeline, got '" + line + "'");
        std::string key = trim(line.substr(0, colon));
        std::string value = trim(line.substr(colon + 1));
        if (key != "param" && !seen.insert(key).second)
            fail(path, lineNo, "'" + key + "' given twice");
        if (key == "scope") {
            if (value == "participant")
                tpl.scope = TemplateScope::participant;
            else if (value == "room")
                tpl.scope = TemplateScope::room;
            else
                fail(path, lineNo, "scope must be 'participant' or 'room', got '" + value + "'");
            sawScope = true;
        } else if (key == "video-codecs") {
            tpl.videoCodecs = parseCodecList(path, lineNo, value, knownVideoCodecs(), "video");
        } else if (key == "audio-codecs") {
            tpl.audioCodecs = parseCodecList(path, lineNo, value, knownAudioCodecs(), "audio");
        } else if (key == "extension") {
            if (!isExtension(value))
                fail(path, lineNo,
                    "extension must be 1 to 8 characters of [a-z0-9], got '" + value + "'");
            tpl.extension = value;
        } else if (key == "description") {
            tpl.description = value;
        } else if (key == "gap-video") {
            if (value == "freeze")
                tpl.gapVideo = GapVideo::freeze;
            else if (value == "black")
                tpl.gapVideo = GapVideo::black;
            else
                fail(path, lineNo, "gap-video must be 'freeze' or 'black', got '" + value + "'");
        } else if (key == "param") {
            TemplateParam param = parseParam(path, lineNo, value);
            for (const auto &p : tpl.params) {
                if (p.name == param.name)
                    fail(path, lineNo, "parameter '" + param.name + "' declared twice");
            }
            tpl.params.push_back(std::move(param));
        } else {
            fail(path, lineNo,
                "unknown key '" + key
                    + "' (known: scope, video-codecs, audio-codecs, extension, description, "
                      "gap-video, param)");
        }
    }
    if (!sawScope)
        fail(path, inBody ? separatorLine : lineNo,
            "missing 'scope: participant|room' in the header");
    if (!inBody)
        fail(path, lineNo, "missing '---' line and pipeline description after the header");
    if (tpl.launchLine == 0)
        fail(path, separatorLine, "empty pipeline description after '---'");
    if (tpl.videoCodecs.empty() && tpl.audioCodecs.empty())
        fail(path, separatorLine, "the header lists neither video-codecs nor audio-codecs");
    tpl.launch = body;
    return tpl;
}

PipelineTemplate loadTemplate(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail(path, 0, "cannot open pipeline template");
    std::string text;
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<size_t>(in.gcount()));
        if (text.size() > maxTemplateBytes)
            fail(path, 0, "template larger than 64 KiB");
    }
    return parseTemplate(path, text);
}

PipelineTemplate findTemplate(const std::vector<std::string> &dirs, const std::string &name)
{
    if (!isSafeStem(name))
        throw StartupError(exitcode::config,
            "pipeline name '" + name
                + "' must be 1 to 64 characters of [A-Za-z0-9._-], not starting "
                  "with '.'");
    std::string searched;
    for (const auto &dir : dirs) {
        std::filesystem::path candidate = std::filesystem::path(dir) / (name + ".pipeline");
        std::error_code ec;
        if (std::filesystem::is_regular_file(candidate, ec))
            return loadTemplate(candidate.string());
        searched += (searched.empty() ? "" : ", ") + dir;
    }
    throw StartupError(exitcode::config,
        "pipeline template '" + name + "' not found (searched: "
            + (searched.empty() ? std::string("no folders") : searched) + ")");
}

} // namespace rc::gateway
