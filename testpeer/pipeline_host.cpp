// Pipeline ownership and bus dispatch on our own context; see pipeline_host.h.
#include "testpeer/pipeline_host.h"

#include "common/base/log.h"

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
        GError *raw = nullptr;
        gchar *debug = nullptr;
        gst_message_parse_error(message, &raw, &debug);
        auto error = adopt(raw);
        GPtr<char> owned(debug);
        std::string text = error ? error->message : "unknown error";
        RC_LOG_DEBUG("error from %s: %s (%s)", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
            text.c_str(), debug ? debug : "");
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
        GError *raw = nullptr;
        gst_message_parse_warning(message, &raw, nullptr);
        auto warning = adopt(raw);
        RC_LOG_DEBUG("warning from %s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
            warning ? warning->message : "");
        break;
    }
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

} // namespace rc::testpeer
