// Small GStreamer helpers the gateway's media code shares: element creation with a readable
// error, walking a bin's elements, and unwrapping a message a bin forwarded.
//
// Free functions with no state; call them on the thread that owns the
// objects (the gateway's main context for bins and bus messages).
#pragma once

#include "common/gst/gst_ptr.h"

#include <functional>
#include <string>

namespace rc {

// gst_element_factory_make (a floating reference, as GStreamer returns it:
// gst_bin_add sinks it); nullptr with error "GStreamer element 'F' is not
// installed". name may be nullptr for a generated one.
GstElement *makeElement(const char *factory, const char *name, std::string &error);

// Sets an int-sized property (gint, gboolean or enum) when the object's
// class has it, so one element version's extra knob is used where present.
// False when there is no such property.
bool setPropertyIfExists(gpointer object, const char *property, int value);

// Calls fn on every element inside bin, recursively (bins included), until
// fn returns false. Restarts cleanly if the bin changes while it walks.
void forEachElement(GstBin *bin, const std::function<bool(GstElement *)> &fn);

// Makes a ghost sink pad return OK upstream whatever its target returns
// (ERROR, NOT_NEGOTIATED, FLUSHING...): a branch of a tee that fails must
// not stop the tee's other branches, nor the source, which would end the
// stream for all of them. The branch's own ERROR message, if it posts one,
// still reaches the bus, where its owner decides what it means.
void swallowFlowErrors(GstPad *ghostSink);

// The message inside a "GstBinForwarded" element message (bins with
// message-forward=true wrap their children's EOS so), as a new reference;
// nullptr for any other message.
GPtr<GstMessage> forwardedMessage(GstMessage *message);

} // namespace rc
