// Instantiates a pipeline template as a GstBin with explicit ghost pads; see template_instance.h.
#include "gateway/templates/template_instance.h"

#include "common/base/file_component.h"

#include "common/gst/gst_helpers.h"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace rc::gateway {
namespace {

struct ParseContextDeleter
{
    void operator()(GstParseContext *c) const noexcept { gst_parse_context_free(c); }
};

// The first sink pad of element that is not linked yet (a static pad; request
// pads would need a template name, which is what "mux.video_0" in the
// description is for). Transfer full.
GPtr<GstPad> freeSinkPad(GstElement *element)
{
    GPtr<GstPad> found;
    GPtr<GstIterator> it(gst_element_iterate_sink_pads(element));
    GValue item = G_VALUE_INIT;
    bool done = false;
    while (!done) {
        switch (gst_iterator_next(it.get(), &item)) {
        case GST_ITERATOR_OK: {
            auto *pad = static_cast<GstPad *>(g_value_get_object(&item));
            if (!found && !gst_pad_is_linked(pad))
                found = ref(pad);
            g_value_reset(&item);
            break;
        }
        case GST_ITERATOR_RESYNC:
            gst_iterator_resync(it.get());
            found.reset();
            break;
        default:
            done = true;
            break;
        }
    }
    g_value_unset(&item);
    return found;
}

bool ghostEntry(GstBin *bin, const char *name, bool &present, std::string &error)
{
    present = false;
    GPtr<GstElement> entry = adopt(gst_bin_get_by_name(bin, name));
    if (!entry)
        return true;
    GPtr<GstObject> parent = adopt(gst_object_get_parent(GST_OBJECT(entry.get())));
    if (parent.get() != GST_OBJECT(bin)) {
        error = std::string("the element named '") + name
            + "' must be at the top level of the description";
        return false;
    }
    GPtr<GstPad> target = freeSinkPad(entry.get());
    if (!target) {
        error = std::string("the element named '") + name
            + "' has no free sink pad to receive the stream";
        return false;
    }
    GstPad *ghost = gst_ghost_pad_new(name, target.get());
    if (!ghost || !gst_element_add_pad(GST_ELEMENT(bin), ghost)) {
        error = std::string("cannot add the '") + name + "' ghost pad";
        return false;
    }
    present = true;
    return true;
}

// The gateway sets the audio-channels element's caps: anything but a capsfilter would take them
// as something else, or not at all.
bool checkAudioChannels(GstBin *bin, std::string &error)
{
    GPtr<GstElement> element = adopt(gst_bin_get_by_name(bin, kAudioChannelsElement));
    if (!element)
        return true;
    GstElementFactory *factory = gst_element_get_factory(element.get());
    if (factory && g_str_equal(GST_OBJECT_NAME(factory), "capsfilter"))
        return true;
    error = std::string("the element named '") + kAudioChannelsElement + "' must be a capsfilter ("
        + (factory ? GST_OBJECT_NAME(factory) : "?")
        + " given): the gateway sets its caps to the participant's audio channels";
    return false;
}

// Elements that write files must be the one named "file", whose location the
// gateway sets: a template never chooses a path itself.
bool checkFileWriters(GstBin *bin, std::string &error)
{
    static const char *writers[]
        = { "filesink", "multifilesink", "splitmuxsink", "hlssink", "hlssink2", "hlssink3" };
    static const char *hlsWriters[] = { "hlssink2", "hlssink3" };
    bool ok = true;
    forEachElement(bin, [&](GstElement *element) {
        GstElementFactory *factory = gst_element_get_factory(element);
        const char *factoryName = factory ? GST_OBJECT_NAME(factory) : "";
        bool isHls = false;
        for (const char *w : hlsWriters)
            isHls = isHls || g_str_equal(factoryName, w);
        // Only the top-level "hls" gets its paths from the gateway (hlssink2's own
        // inner splitmuxsink/filesink are its business).
        GPtr<GstObject> parent = adopt(gst_object_get_parent(GST_OBJECT(element)));
        bool insideHls = false;
        for (GstObject *p = parent.get(); p && !insideHls; p = GST_OBJECT_PARENT(p)) {
            GstElementFactory *pf
                = GST_IS_ELEMENT(p) ? gst_element_get_factory(GST_ELEMENT(p)) : nullptr;
            for (const char *w : hlsWriters)
                insideHls = insideHls || (pf && g_str_equal(GST_OBJECT_NAME(pf), w));
        }
        for (const char *w : writers) {
            if (insideHls || !g_str_equal(factoryName, w))
                continue;
            if (g_str_equal(GST_OBJECT_NAME(element), "file"))
                continue;
            if (isHls && g_str_equal(GST_OBJECT_NAME(element), "hls")
                && parent.get() == GST_OBJECT(bin))
                continue;
            error = std::string("element '") + GST_OBJECT_NAME(element) + "' (" + factoryName
                + ") writes files but is not named 'file' (or 'hls' for an HLS sink); name it so "
                  "and "
                  "leave its location to the gateway";
            ok = false;
        }
        return true;
    });
    return ok;
}

std::string instanceName(const PipelineTemplate &tpl, const TemplateVariables &vars)
{
    static std::atomic<unsigned> counter { 0 };
    std::string who = vars.participant.empty() ? vars.room : vars.participant;
    return sanitizeFileComponent(tpl.name) + "-" + sanitizeFileComponent(who) + "-"
        + std::to_string(counter.fetch_add(1) + 1);
}

// An int parameter's value on a number or enum property; false with error when the property
// cannot take it.
bool setIntProperty(GstElement *target, GParamSpec *spec, long long n, std::string &error)
{
    GValue v = G_VALUE_INIT;
    g_value_init(&v, spec->value_type);
    bool ok = true;
    if (G_IS_PARAM_SPEC_ENUM(spec)) {
        GEnumClass *klass = G_PARAM_SPEC_ENUM(spec)->enum_class;
        ok = n >= G_MININT && n <= G_MAXINT && g_enum_get_value(klass, static_cast<int>(n));
        if (ok)
            g_value_set_enum(&v, static_cast<int>(n));
    } else if (spec->value_type == G_TYPE_INT) {
        ok = n >= G_MININT && n <= G_MAXINT;
        if (ok)
            g_value_set_int(&v, static_cast<int>(n));
    } else if (spec->value_type == G_TYPE_UINT) {
        ok = n >= 0 && n <= G_MAXUINT;
        if (ok)
            g_value_set_uint(&v, static_cast<unsigned>(n));
    } else if (spec->value_type == G_TYPE_INT64) {
        g_value_set_int64(&v, n);
    } else if (spec->value_type == G_TYPE_UINT64) {
        ok = n >= 0;
        if (ok)
            g_value_set_uint64(&v, static_cast<guint64>(n));
    } else {
        ok = false;
    }
    if (ok)
        ok = !g_param_value_validate(spec, &v); // true = the value had to be changed
    if (ok)
        g_object_set_property(G_OBJECT(target), spec->name, &v);
    else
        error = std::to_string(n) + " is not a value of " + spec->name;
    g_value_unset(&v);
    return ok;
}

// Parameters set by code on the element property named by set=: urls and secrets (strings),
// ints that say so. The values never go through the description text.
bool setCodeParams(GstBin *bin, const PipelineTemplate &tpl, const TemplateVariables &vars,
    const std::map<std::string, std::string> &params, TemplateInstance &instance,
    std::string &error)
{
    for (const auto &p : tpl.params) {
        if (p.setElement.empty())
            continue;
        const bool isString = p.kind != TemplateParamKind::integer;
        // The target is checked even without a value (--check-config).
        GPtr<GstElement> target = adopt(gst_bin_get_by_name(bin, p.setElement.c_str()));
        if (!target) {
            error = "parameter " + p.name + ": no element named '" + p.setElement
                + "' (set=" + p.setElement + "." + p.setProperty + ")";
            return false;
        }
        GParamSpec *spec
            = g_object_class_find_property(G_OBJECT_GET_CLASS(target.get()), p.setProperty.c_str());
        const bool numeric = spec
            && (G_IS_PARAM_SPEC_ENUM(spec) || spec->value_type == G_TYPE_INT
                || spec->value_type == G_TYPE_UINT || spec->value_type == G_TYPE_INT64
                || spec->value_type == G_TYPE_UINT64);
        if (!spec || !(spec->flags & G_PARAM_WRITABLE)
            || (isString ? spec->value_type != G_TYPE_STRING : !numeric)) {
            error = "parameter " + p.name + ": element '" + p.setElement + "' has no writable "
                + (isString ? "string" : "number") + " property '" + p.setProperty + "'";
            return false;
        }
        auto it = params.find(p.name);
        if (it == params.end() || it->second.empty())
            continue;
        if (!isString) {
            std::string why;
            if (!setIntProperty(
                    target.get(), spec, std::strtoll(it->second.c_str(), nullptr, 10), why)) {
                error = "parameter " + p.name + ": " + why;
                return false;
            }
            continue;
        }
        if (p.kind == TemplateParamKind::secret) {
            g_object_set(target.get(), p.setProperty.c_str(), it->second.c_str(), nullptr);
            continue;
        }
        const std::string url = urlForInstance(tpl, it->second, vars.participant);
        g_object_set(target.get(), p.setProperty.c_str(), url.c_str(), nullptr);
        instance.url = url;
    }
    return true;
}

bool setHlsPaths(GstBin *bin, const std::map<std::string, std::string> &params,
    const std::string &sessionDir, TemplateInstance &instance, std::string &error)
{
    GPtr<GstElement> hls = adopt(gst_bin_get_by_name(bin, "hls"));
    if (!hls || sessionDir.empty())
        return true;
    GObjectClass *klass = G_OBJECT_GET_CLASS(hls.get());
    if (!g_object_class_find_property(klass, "location")
        || !g_object_class_find_property(klass, "playlist-location")) {
        error = "the element named 'hls' has no 'location' and 'playlist-location' properties (use "
                "hlssink2)";
        return false;
    }
    auto it = params.find("directory");
    // Validated as [A-Za-z0-9._-] already; sanitized again so that it stays one folder.
    const std::string sub
        = sanitizeFileComponent(it != params.end() && !it->second.empty() ? it->second : "hls");
    const std::string dir = (std::filesystem::path(sessionDir) / sub).string();
    if (!makeDirectories(dir, error))
        return false;
    g_object_set(hls.get(), "location", (dir + "/segment%05d.ts").c_str(), "playlist-location",
        (dir + "/playlist.m3u8").c_str(), nullptr);
    instance.hlsDir = dir;
    return true;
}

} // namespace

std::string urlForInstance(
    const PipelineTemplate &tpl, const std::string &url, const std::string &participant)
{
    if (tpl.scope != TemplateScope::participant || participant.empty())
        return url;
    const size_t query = url.find_first_of("?#");
    std::string base = url.substr(0, query);
    const std::string tail = query == std::string::npos ? std::string() : url.substr(query);
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    return base + "/" + sanitizeFileComponent(participant) + tail;
}

std::optional<TemplateInstance> instantiateTemplate(const PipelineTemplate &tpl,
    const TemplateVariables &vars, const std::string &outputPath, std::string &error)
{
    std::map<std::string, std::string> params;
    for (const auto &p : tpl.params) {
        if (!p.defaultValue.empty())
            params[p.name] = p.defaultValue;
        else if (p.required && p.kind == TemplateParamKind::string)
            params[p.name] = "x";
        else if (p.required && p.kind == TemplateParamKind::integer)
            params[p.name] = std::to_string(p.minValue);
    }
    return instantiateTemplate(tpl, vars, params, outputPath, "", error);
}

std::optional<TemplateInstance> instantiateTemplate(const PipelineTemplate &tpl,
    const TemplateVariables &varsIn, const std::map<std::string, std::string> &params,
    const std::string &outputPath, const std::string &sessionDir, std::string &error)
{
    TemplateVariables vars = varsIn;
    vars.params.clear();
    for (const auto &p : tpl.params) {
        if (p.kind == TemplateParamKind::url || p.kind == TemplateParamKind::secret)
            continue;
        if (auto it = params.find(p.name); it != params.end() && !it->second.empty())
            vars.params[p.name] = it->second;
    }
    std::string description;
    try {
        for (const auto &name : placeholdersIn(tpl.launch)) {
            for (const auto &p : tpl.params) {
                if (p.name == name && !vars.params.count(name))
                    throw std::invalid_argument(
                        "parameter '" + name + "' is used as ${" + name + "} but has no value");
            }
        }
        description = expandVariables(tpl.launch, vars);
    } catch (const std::invalid_argument &e) {
        error = tpl.path + ": " + e.what();
        return std::nullopt;
    }

    std::unique_ptr<GstParseContext, ParseContextDeleter> context(gst_parse_context_new());
    GError *rawError = nullptr;
    // No ghost-pad magic: ghosting unlinked pads would expose whatever the
    // description leaves dangling; the two entry pads are ghosted below.
    GstElement *parsed = gst_parse_bin_from_description_full(
        description.c_str(), FALSE, context.get(), GST_PARSE_FLAG_FATAL_ERRORS, &rawError);
    GPtr<GError> parseError = adopt(rawError);
    GPtr<GstElement> bin = refSink(parsed);
    if (parseError || !bin) {
        error = tpl.path + ": "
            + (parseError ? parseError->message : "cannot parse the pipeline description");
        if (char **names = gst_parse_context_get_missing_elements(context.get())) {
            std::string list;
            for (char **n = names; *n; ++n)
                list += (list.empty() ? "" : ", ") + std::string(*n);
            g_strfreev(names);
            if (!list.empty())
                error += " (missing elements: " + list + ")";
        }
        return std::nullopt;
    }
    if (!GST_IS_BIN(bin.get())) {
        error = tpl.path + ": the description did not produce a bin";
        return std::nullopt;
    }
    GstBin *asBin = GST_BIN(bin.get());

    TemplateInstance instance;
    if (!ghostEntry(asBin, "video", instance.hasVideo, error)
        || !ghostEntry(asBin, "audio", instance.hasAudio, error)) {
        error = tpl.path + ": " + error;
        return std::nullopt;
    }
    if (!instance.hasVideo && !instance.hasAudio) {
        error = tpl.path
            + ": no element named 'video' or 'audio' to receive the participant's streams";
        return std::nullopt;
    }
    if (!checkFileWriters(asBin, error)) {
        error = tpl.path + ": " + error;
        return std::nullopt;
    }

    if (!checkAudioChannels(asBin, error)) {
        error = tpl.path + ": " + error;
        return std::nullopt;
    }

    GPtr<GstElement> file = adopt(gst_bin_get_by_name(asBin, "file"));
    if (file) {
        if (!g_object_class_find_property(G_OBJECT_GET_CLASS(file.get()), "location")) {
            error = tpl.path + ": the element named 'file' has no 'location' property";
            return std::nullopt;
        }
        if (outputPath.empty()) {
            error = tpl.path + ": the template writes a file but no output path was given";
            return std::nullopt;
        }
        g_object_set(file.get(), "location", outputPath.c_str(), nullptr);
        instance.outputPath = outputPath;
    }
    if (!setCodeParams(asBin, tpl, vars, params, instance, error)
        || !setHlsPaths(asBin, params, sessionDir, instance, error)) {
        error = tpl.path + ": " + error;
        return std::nullopt;
    }

    gst_object_set_name(GST_OBJECT(bin.get()), instanceName(tpl, vars).c_str());
    instance.bin = std::move(bin);
    return instance;
}

} // namespace rc::gateway
