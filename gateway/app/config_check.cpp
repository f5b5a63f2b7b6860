// Loads and proves every active pipeline template at start-up (and for --check-config); see
// config_check.h.
#include "gateway/app/config_check.h"

#include "common/base/exit_codes.h"
#include "common/base/log.h"
#include "common/base/startup_error.h"
#include "common/gst/gst_ptr.h"
#include "gateway/composite/room_mixer.h"
#include "gateway/participant/peer_receiver.h"
#include "gateway/templates/output_plan.h"
#include "gateway/templates/template_instance.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

namespace rc::gateway {
namespace {

std::string &templateCheckHelper()
{
    static std::string helper;
    return helper;
}

// One line per path from the helper, in order: "ok" or "skip REASON". nullopt if the helper
// could not run or answered something else (then the caller checks in process).
std::optional<std::vector<std::string>> checkInChild(const std::vector<std::string> &paths)
{
    std::vector<char *> argv;
    std::string exe = templateCheckHelper();
    std::string flag = kCheckTemplatesArg;
    argv.push_back(exe.data());
    argv.push_back(flag.data());
    std::vector<std::string> copies(paths);
    for (auto &p : copies)
        argv.push_back(p.data());
    argv.push_back(nullptr);
    gchar *out = nullptr;
    gint status = 0;
    GError *raw = nullptr;
    // Its stderr is ours: GStreamer's warnings about a broken template show up as before.
    const gboolean ran = g_spawn_sync(nullptr, argv.data(), nullptr, G_SPAWN_CHILD_INHERITS_STDIN,
        nullptr, nullptr, &out, nullptr, &status, &raw);
    GPtr<GError> error = adopt(raw);
    GPtr<gchar> text = adopt(out);
    if (!ran || !g_spawn_check_wait_status(status, nullptr) || !text)
        return std::nullopt;
    std::vector<std::string> lines;
    std::istringstream in(text.get());
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    if (lines.size() != paths.size())
        return std::nullopt;
    for (const auto &line : lines)
        if (line != "ok" && line.rfind("skip ", 0) != 0)
            return std::nullopt;
    return lines;
}

const char *mediaTypeOf(const std::string &codec)
{
    if (codec == "VP8")
        return "video/x-vp8";
    if (codec == "VP9")
        return "video/x-vp9";
    if (codec == "H264")
        return "video/x-h264";
    if (codec == "AV1")
        return "video/x-av1";
    if (codec == "OPUS")
        return "audio/x-opus";
    return nullptr;
}

// Whether the bin's ghost pad can take this codec at all, asked of the
// elements behind it (in NULL state the pads answer from their templates).
bool padAccepts(GstElement *bin, const char *padName, const std::string &codec)
{
    GPtr<GstPad> pad = adopt(gst_element_get_static_pad(bin, padName));
    const char *media = mediaTypeOf(codec);
    if (!pad || !media)
        return false;
    GPtr<GstCaps> caps = adopt(gst_pad_query_caps(pad.get(), nullptr));
    GPtr<GstCaps> wanted = adopt(gst_caps_new_empty_simple(media));
    return caps && gst_caps_can_intersect(caps.get(), wanted.get());
}

[[noreturn]] void fail(const PipelineTemplate &tpl, const std::string &message)
{
    throw StartupError(exitcode::config, tpl.path + ": " + message);
}

} // namespace

void checkTemplate(const PipelineTemplate &tpl)
{
    TemplateVariables dummy { "room", "participant", "20000101T000000Z", "/nonexistent" };
    std::string error;
    // The location is never opened: the bin stays in NULL state.
    auto instance = instantiateTemplate(tpl, dummy,
        "/nonexistent/check." + (tpl.extension.empty() ? std::string("out") : tpl.extension),
        error);
    // A template naming an element that is not installed is a missing
    // plugin (69, like the gateway's own elements), not a bad config (78);
    // instantiateTemplate names the elements GStreamer reported missing.
    if (!instance)
        throw StartupError(error.find("(missing elements: ") != std::string::npos
                ? exitcode::unavailable
                : exitcode::config,
            error);

    if (instance->hasVideo && tpl.videoCodecs.empty())
        fail(tpl, "has an element named 'video' but the header lists no video-codecs");
    if (instance->hasAudio && tpl.audioCodecs.empty())
        fail(tpl, "has an element named 'audio' but the header lists no audio-codecs");
    if (!instance->hasVideo && !tpl.videoCodecs.empty())
        fail(tpl, "lists video-codecs but has no element named 'video'");
    if (!instance->hasAudio && !tpl.audioCodecs.empty())
        fail(tpl, "lists audio-codecs but has no element named 'audio'");
    if (!instance->outputPath.empty() && tpl.extension.empty())
        fail(tpl, "writes a file (element 'file') but the header gives no extension");
    if (instance->outputPath.empty() && !tpl.extension.empty())
        fail(tpl, "gives an extension but has no element named 'file' to write it");
    if (tpl.scope == TemplateScope::room) {
        // A room template receives the composite: raw video and raw audio
        // (its codec lists only say which participant codecs the mix decodes).
        auto takesRaw = [&](const char *padName, const char *media) {
            GPtr<GstPad> pad = adopt(gst_element_get_static_pad(instance->bin.get(), padName));
            GPtr<GstCaps> caps = pad ? adopt(gst_pad_query_caps(pad.get(), nullptr)) : nullptr;
            GPtr<GstCaps> wanted = adopt(gst_caps_new_empty_simple(media));
            return caps && gst_caps_can_intersect(caps.get(), wanted.get());
        };
        if (instance->hasVideo && !takesRaw("video", "video/x-raw"))
            fail(tpl,
                "is a room template but its 'video' element cannot take raw video (video/x-raw)");
        if (instance->hasAudio && !takesRaw("audio", "audio/x-raw"))
            fail(tpl,
                "is a room template but its 'audio' element cannot take raw audio (audio/x-raw)");
        return;
    }
    for (const auto &codec : tpl.videoCodecs) {
        if (!padAccepts(instance->bin.get(), "video", codec))
            fail(tpl,
                "lists video codec " + codec + " but its 'video' element cannot take "
                    + mediaTypeOf(codec));
    }
    for (const auto &codec : tpl.audioCodecs) {
        if (!padAccepts(instance->bin.get(), "audio", codec))
            fail(tpl,
                "lists audio codec " + codec + " but its 'audio' element cannot take "
                    + mediaTypeOf(codec));
    }
}

RequiredElements requiredElements(const std::vector<PipelineTemplate> &templates)
{
    RequiredElements list = PeerReceiver::requiredElements();
    // A room-scope template runs on the room's composite, built by code rather than by the
    // template.
    const bool roomScope = std::any_of(templates.begin(), templates.end(),
        [](const PipelineTemplate &t) { return t.scope == TemplateScope::room; });
    if (roomScope)
        addRequired(list, RoomMixer::requiredElements());
    return list;
}

std::vector<PipelineTemplate> loadActiveTemplates(const GatewayOptions &options)
{
    validateGatewayOptions(options);
    std::vector<PipelineTemplate> templates;
    for (const auto &name : options.pipelines) {
        PipelineTemplate tpl = findTemplate(options.pipelinesDirs, name);
        checkTemplate(tpl);
        templates.push_back(std::move(tpl));
    }
    // The parameters too (--param, --rtmp-url), so that --check-config refuses
    // what start-up would: a missing URL, a bad scheme, a value out of range.
    resolveStartupParams(templates, options.templateParams);
    return templates;
}

std::vector<PipelineTemplate> loadAvailableTemplates(
    const GatewayOptions &options, std::vector<std::string> &skipped)
{
    std::map<std::string, std::string> files; // name -> path, first folder wins
    for (const auto &dir : options.pipelinesDirs) {
        std::error_code ec;
        std::vector<std::filesystem::path> here;
        for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".pipeline")
                here.push_back(entry.path());
        }
        std::sort(here.begin(), here.end());
        for (const auto &path : here) {
            const std::string name = path.stem().string();
            // Same rule as findTemplate: the name must be a safe file stem.
            const bool safe = !name.empty() && name.size() <= 64 && name[0] != '.'
                && name.find_first_not_of(
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
                    == std::string::npos;
            if (safe)
                files.emplace(name, path.string());
        }
    }
    // The active templates are instantiated anyway (their plugins are needed); the others go
    // to the helper, if there is one.
    std::vector<std::string> elsewhere;
    if (!templateCheckHelper().empty()) {
        for (const auto &[name, path] : files)
            if (std::find(options.pipelines.begin(), options.pipelines.end(), name)
                == options.pipelines.end())
                elsewhere.push_back(path);
    }
    std::map<std::string, std::string> verdicts; // path -> "ok" / "skip REASON"
    if (!elsewhere.empty()) {
        if (auto lines = checkInChild(elsewhere)) {
            for (size_t i = 0; i < elsewhere.size(); ++i)
                verdicts[elsewhere[i]] = (*lines)[i];
        } else {
            rc::log::Logger("gateway").warn(
                "the template check helper failed; checking the templates in this process");
        }
    }
    std::vector<PipelineTemplate> out;
    for (const auto &[name, path] : files) {
        try {
            PipelineTemplate tpl = loadTemplate(path);
            auto verdict = verdicts.find(path);
            if (verdict == verdicts.end())
                checkTemplate(tpl);
            else if (verdict->second != "ok")
                throw StartupError(exitcode::config, verdict->second.substr(5));
            out.push_back(std::move(tpl));
        } catch (const StartupError &e) {
            skipped.push_back(e.what());
        }
    }
    return out;
}

void setTemplateCheckHelper(std::string executable)
{
    templateCheckHelper() = std::move(executable);
}

int runTemplateCheckChild(int argc, char *argv[])
{
    for (int i = 2; i < argc; ++i) {
        try {
            checkTemplate(loadTemplate(argv[i]));
            std::printf("ok\n");
        } catch (const std::exception &e) {
            // One line per template: the reason's own line breaks become spaces.
            std::string why = e.what();
            std::replace(why.begin(), why.end(), '\n', ' ');
            std::printf("skip %s\n", why.c_str());
        }
    }
    return std::fflush(stdout) == 0 ? exitcode::ok : exitcode::software;
}

} // namespace rc::gateway
