// Out-of-line parts of test_support.h.
#include "test_support.h"

#include "roomcast-config.h"

#include <cstdio>
#include <cstdlib>

namespace rc::test {

void requireElementsOrSkip(std::initializer_list<const char *> factories)
{
    gst_init(nullptr, nullptr);
    for (const char *name : factories) {
        GstElementFactory *factory = gst_element_factory_find(name);
        if (!factory) {
            std::fprintf(stderr, "missing GStreamer element %s: skipping\n", name);
            std::exit(77);
        }
        gst_object_unref(factory);
    }
}

bool runCommand(const std::vector<std::string> &argv, std::string &out)
{
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    gchar *stdoutText = nullptr;
    gint status = 0;
    GError *error = nullptr;
    gboolean ok = g_spawn_sync(nullptr, args.data(), nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
        &stdoutText, nullptr, &status, &error);
    out = stdoutText ? stdoutText : "";
    g_free(stdoutText);
    if (error)
        g_error_free(error);
    return ok && g_spawn_check_wait_status(status, nullptr);
}

std::string sourcePipelinesDir()
{
    return ROOMCAST_SOURCE_ROOT "/pipelines";
}

} // namespace rc::test
