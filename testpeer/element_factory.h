// Creating GStreamer elements by factory name, with a start-up error when a plugin is missing.
#pragma once

#include <gst/gst.h>

namespace rc::testpeer {

// A new floating element; throws rc::StartupError(69) when the factory is not
// installed. Start-up code only.
GstElement *makeElement(const char *factory, const char *name = nullptr);

// Run-time variant: nullptr (and a logged error) when the factory is missing.
GstElement *tryMakeElement(const char *factory, const char *name = nullptr) noexcept;

} // namespace rc::testpeer
