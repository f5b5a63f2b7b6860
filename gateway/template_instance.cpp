// Instantiates a pipeline template as a GstBin with explicit ghost pads; see template_instance.h.
#include "template_instance.h"

#include "recording_layout.h"

#include <atomic>
#include <memory>
#include <stdexcept>

namespace rc::gateway {
namespace {

struct ParseContextDeleter {
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
        error = std::string("the element named '") + name + "' must be at the top level of the description";
        return false;
    }
    GPtr<GstPad> target = freeSinkPad(entry.get());
    if (!target) {
        error = std::string("the element named '") + name + "' has no free sink pad to receive the stream";
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

// Elements that write files must be the one named "file", whose location the
// gateway sets: a template never chooses a path itself.
bool checkFileWriters(GstBin *bin, std::string &error)
{
    static const char *writers[] = {"filesink", "multifilesink", "splitmuxsink", "hlssink", "hlssink2", "hlssink3"};
    GPtr<GstIterator> it(gst_bin_iterate_recurse(bin));
    GValue item = G_VALUE_INIT;
    bool ok = true, done = false;
    while (!done) {
        switch (gst_iterator_next(it.get(), &item)) {
        case GST_ITERATOR_OK: {
            auto *element = static_cast<GstElement *>(g_value_get_object(&item));
            GstElementFactory *factory = gst_element_get_factory(element);
            const char *factoryName = factory ? GST_OBJECT_NAME(factory) : "";
            for (const char *w : writers) {
                if (g_str_equal(factoryName, w) && !g_str_equal(GST_OBJECT_NAME(element), "file")) {
                    error = std::string("element '") + GST_OBJECT_NAME(element) + "' (" + factoryName +
                            ") writes files but is not named 'file'; name it file and leave its location to "
                            "the gateway";
                    ok = false;
                }
            }
            g_value_reset(&item);
            break;
        }
        case GST_ITERATOR_RESYNC:
            gst_iterator_resync(it.get());
            break;
        default:
            done = true;
            break;
        }
    }
    g_value_unset(&item);
    return ok;
}

std::string instanceName(const PipelineTemplate &tpl, const TemplateVariables &vars)
{
    static std::atomic<unsigned> counter{0};
    std::string who = vars.participant.empty() ? vars.room : vars.participant;
    return sanitizeFileComponent(tpl.name) + "-" + sanitizeFileComponent(who) + "-" +
           std::to_string(counter.fetch_add(1) + 1);
}

} // namespace

std::optional<TemplateInstance> instantiateTemplate(const PipelineTemplate &tpl, const TemplateVariables &vars,
                                                    const std::string &outputPath, std::string &error)
{
    std::string description;
    try {
        description = expandVariables(tpl.launch, vars);
    } catch (const std::invalid_argument &e) {
        error = tpl.path + ": " + e.what();
        return std::nullopt;
    }

    std::unique_ptr<GstParseContext, ParseContextDeleter> context(gst_parse_context_new());
    GError *rawError = nullptr;
    // No ghost-pad magic: ghosting unlinked pads would expose whatever the
    // description leaves dangling; the two entry pads are ghosted below.
    GstElement *parsed = gst_parse_bin_from_description_full(description.c_str(), FALSE, context.get(),
                                                             GST_PARSE_FLAG_FATAL_ERRORS, &rawError);
    GPtr<GError> parseError = adopt(rawError);
    GPtr<GstElement> bin = refSink(parsed);
    if (parseError || !bin) {
        error = tpl.path + ": " + (parseError ? parseError->message : "cannot parse the pipeline description");
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
    if (!ghostEntry(asBin, "video", instance.hasVideo, error) || !ghostEntry(asBin, "audio", instance.hasAudio, error)) {
        error = tpl.path + ": " + error;
        return std::nullopt;
    }
    if (!instance.hasVideo && !instance.hasAudio) {
        error = tpl.path + ": no element named 'video' or 'audio' to receive the participant's streams";
        return std::nullopt;
    }
    if (!checkFileWriters(asBin, error)) {
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

    gst_object_set_name(GST_OBJECT(bin.get()), instanceName(tpl, vars).c_str());
    instance.bin = std::move(bin);
    return instance;
}

} // namespace rc::gateway
