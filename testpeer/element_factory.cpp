// Element creation helpers; see element_factory.h.
#include "testpeer/element_factory.h"

#include "common/base/exit_codes.h"
#include "common/base/log.h"
#include "common/base/startup_error.h"

#include <string>

namespace rc::testpeer {

GstElement *makeElement(const char *factory, const char *name)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (!e)
        throw StartupError(exitcode::unavailable,
            std::string("GStreamer element '") + factory + "' is not installed");
    return e;
}

GstElement *tryMakeElement(const char *factory, const char *name) noexcept
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (!e)
        RC_LOG_ERROR("GStreamer element '%s' is not installed", factory);
    return e;
}

} // namespace rc::testpeer
