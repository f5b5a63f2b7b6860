// Loads and proves every active pipeline template at start-up (and for --check-config); see config_check.h.
#include "config_check.h"

#include "exit_codes.h"
#include "gst_ptr.h"
#include "startup_error.h"
#include "template_instance.h"

namespace rc::gateway {
namespace {

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
    TemplateVariables dummy{"room", "participant", "20000101T000000Z", "/nonexistent"};
    std::string error;
    // The location is never opened: the bin stays in NULL state.
    auto instance = instantiateTemplate(tpl, dummy, "/nonexistent/check." + (tpl.extension.empty() ? std::string("out") : tpl.extension), error);
    if (!instance)
        throw StartupError(exitcode::config, error);

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
    for (const auto &codec : tpl.videoCodecs) {
        if (!padAccepts(instance->bin.get(), "video", codec))
            fail(tpl, "lists video codec " + codec + " but its 'video' element cannot take " + mediaTypeOf(codec));
    }
    for (const auto &codec : tpl.audioCodecs) {
        if (!padAccepts(instance->bin.get(), "audio", codec))
            fail(tpl, "lists audio codec " + codec + " but its 'audio' element cannot take " + mediaTypeOf(codec));
    }
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
    return templates;
}

} // namespace rc::gateway
