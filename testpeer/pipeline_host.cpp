// Pipeline ownership and bus dispatch on our own context; see pipeline_host.h.
#include "testpeer/pipeline_host.h"

#include "common/base/log.h"
#include "common/gst/bus_message.h"

namespace rc::testpeer {

PipelineHost::PipelineHost(GMainContext *context, ErrorFn onError)
    : pipeline_(refSink(gst_pipeline_new("testpeer")))
    , onError_(std::move(onError))
{
    GPtr<GstBus> bus(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
    busWatch_.reset(gst_bus_create_watch(bus.get()));
    g_source_set_callback(busWatch_.get(),
        reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(onBusMessage)), this, nullptr);
    g_source_attach(busWatch_.get(), context);
}

PipelineHost::~PipelineHost()
{
    busWatch_.reset();
    stop();
}

bool PipelineHost::play()
{
    return gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
}

void PipelineHost::stop()
{
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

gboolean PipelineHost::onBusMessage(GstBus *, GstMessage *message, gpointer data) noexcept
{
    auto *self = static_cast<PipelineHost *>(data);
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
        const BusProblem problem = *readBusProblem(message);
        const std::string &text = problem.message;
        RC_LOG_DEBUG("error from %s: %s (%s)", problem.sourceName.c_str(), text.c_str(),
            problem.debug.c_str());
        GstObject *src = GST_MESSAGE_SRC(message);
        GstObject *pipeline = GST_OBJECT(self->pipeline_.get());
        // An element of a session already torn down posted this on its way out.
        if (src != pipeline && !gst_object_has_as_ancestor(src, pipeline))
            break;
        try {
            if (self->onError_)
                self->onError_(GST_MESSAGE_SRC(message), text);
        } catch (const std::exception &e) {
            RC_LOG_ERROR("bus error handler failed: %s", e.what());
        }
        break;
    }
    case GST_MESSAGE_WARNING: {
        const BusProblem problem = *readBusProblem(message, "");
        RC_LOG_DEBUG("warning from %s: %s", problem.sourceName.c_str(), problem.message.c_str());
        break;
    }
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

} // namespace rc::testpeer
