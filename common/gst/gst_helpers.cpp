// GStreamer helpers shared by the media code; see gst_helpers.h.
#include "common/gst/gst_helpers.h"

namespace rc {

GstElement *makeElement(const char *factory, const char *name, std::string &error)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (!e)
        error = std::string("GStreamer element '") + factory + "' is not installed";
    return e;
}

bool setPropertyIfExists(gpointer object, const char *property, int value)
{
    if (!g_object_class_find_property(G_OBJECT_GET_CLASS(object), property))
        return false;
    g_object_set(object, property, value, nullptr);
    return true;
}

void forEachElement(GstBin *bin, const std::function<bool(GstElement *)> &fn)
{
    GPtr<GstIterator> it = adopt(gst_bin_iterate_recurse(bin));
    GValue item = G_VALUE_INIT;
    bool done = false;
    while (!done) {
        switch (gst_iterator_next(it.get(), &item)) {
        case GST_ITERATOR_OK:
            done = !fn(GST_ELEMENT(g_value_get_object(&item)));
            g_value_reset(&item);
            break;
        case GST_ITERATOR_RESYNC:
            gst_iterator_resync(it.get());
            break;
        default:
            done = true;
            break;
        }
    }
    g_value_unset(&item);
}

GPtr<GstMessage> forwardedMessage(GstMessage *message)
{
    if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ELEMENT)
        return nullptr;
    const GstStructure *s = gst_message_get_structure(message);
    if (!s || !gst_structure_has_name(s, "GstBinForwarded"))
        return nullptr;
    GstMessage *inner = nullptr;
    gst_structure_get(s, "message", GST_TYPE_MESSAGE, &inner, nullptr);
    return adopt(inner); // gst_structure_get hands out a new reference
}

namespace {

GstFlowReturn okChain(GstPad *pad, GstObject *parent, GstBuffer *buffer) noexcept
{
    const GstFlowReturn ret = gst_proxy_pad_chain_default(pad, parent, buffer);
    return ret < GST_FLOW_OK ? GST_FLOW_OK : ret;
}

GstFlowReturn okChainList(GstPad *pad, GstObject *parent, GstBufferList *list) noexcept
{
    const GstFlowReturn ret = gst_proxy_pad_chain_list_default(pad, parent, list);
    return ret < GST_FLOW_OK ? GST_FLOW_OK : ret;
}

} // namespace

void swallowFlowErrors(GstPad *ghostSink)
{
    gst_pad_set_chain_function(ghostSink, okChain);
    gst_pad_set_chain_list_function(ghostSink, okChainList);
}

} // namespace rc
