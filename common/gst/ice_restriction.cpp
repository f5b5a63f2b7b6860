// ICE address restriction through webrtcbin's libnice agent; see ice_restriction.h.
#include "common/gst/ice_restriction.h"

#include "common/gst/gst_ptr.h"

#include <nice/agent.h>

namespace rc {

RC_GOBJECT_DELETER(NiceAgent)

bool restrictIceAddresses(
    GstElement *webrtcbin, const std::vector<std::string> &addresses, std::string &error)
{
    GstObject *rawIce = nullptr;
    g_object_get(webrtcbin, "ice-agent", &rawIce, nullptr); // transfer full
    auto ice = adopt(rawIce);
    if (!ice || !g_object_class_find_property(G_OBJECT_GET_CLASS(ice.get()), "agent")) {
        error = "webrtcbin's ICE implementation is not libnice";
        return false;
    }
    NiceAgent *rawAgent = nullptr;
    g_object_get(ice.get(), "agent", &rawAgent, nullptr); // transfer full
    auto agent = adopt(rawAgent);
    if (!agent) {
        error = "webrtcbin has no NiceAgent";
        return false;
    }
    // libnice maps ports on the host's router by default (gupnp-igd is installed with it),
    // sending SSDP to 239.255.255.250: a server must never open ports or send anything its
    // operator did not configure.
    g_object_set(agent.get(), "upnp", FALSE, nullptr);
    for (const auto &address : addresses) {
        NiceAddress nice;
        nice_address_init(&nice);
        if (!nice_address_set_from_string(&nice, address.c_str())) {
            error = "not an IP address: '" + address + "'";
            return false;
        }
        if (!nice_agent_add_local_address(agent.get(), &nice)) {
            error = "libnice refused local address '" + address + "'";
            return false;
        }
    }
    return true;
}

} // namespace rc
