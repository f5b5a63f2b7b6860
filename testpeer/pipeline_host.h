// Owns the one GstPipeline of a test peer or load generator and watches its bus on our main
// context.
#pragma once

#include "common/gst/gst_ptr.h"

#include <functional>
#include <string>

namespace rc::testpeer {

// Owned by main; thread-bound to the GMainContext it is given (the bus watch
// is attached there, never to the global default context).
class PipelineHost
{
public:
    // element: the message's source; message: the GError text.
    using ErrorFn = std::function<void(GstObject *element, const std::string &message)>;

    PipelineHost(GMainContext *context, ErrorFn onError);
    ~PipelineHost(); // sets the pipeline to NULL
    PipelineHost(const PipelineHost &) = delete;
    PipelineHost &operator=(const PipelineHost &) = delete;

    GstBin *bin() const noexcept { return GST_BIN(pipeline_.get()); }
    bool play();
    void stop();

private:
    static gboolean onBusMessage(GstBus *bus, GstMessage *message, gpointer data) noexcept;

    GPtr<GstElement> pipeline_;
    GPtr<GSource> busWatch_;
    ErrorFn onError_;
};

} // namespace rc::testpeer
