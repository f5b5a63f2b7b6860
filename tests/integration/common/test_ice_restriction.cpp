// restrictIceAddresses on a real webrtcbin: libnice's UPnP is off whatever the addresses, and
// a bad address is refused with its text.
#include "common/gst/gst_ptr.h"
#include "common/gst/ice_restriction.h"

#include <catch2/catch.hpp>

#include <nice/agent.h>

#include <cstdlib>

namespace {

rc::GPtr<GstElement> makeWebrtcbin()
{
    static const bool initialized = [] {
        gst_init(nullptr, nullptr);
        return true;
    }();
    (void)initialized;
    GstElement *raw = gst_element_factory_make("webrtcbin", nullptr);
    if (!raw) {
        WARN("webrtcbin is not installed");
        std::exit(77); // meson: skipped
    }
    return rc::refSink(raw);
}

bool upnpOf(GstElement *webrtcbin)
{
    GstObject *ice = nullptr;
    g_object_get(webrtcbin, "ice-agent", &ice, nullptr);
    REQUIRE(ice);
    NiceAgent *agent = nullptr;
    g_object_get(ice, "agent", &agent, nullptr);
    REQUIRE(agent);
    gboolean upnp = TRUE;
    g_object_get(agent, "upnp", &upnp, nullptr);
    g_object_unref(agent);
    gst_object_unref(ice);
    return upnp;
}

} // namespace

TEST_CASE("UPnP is off after restricting to loopback", "[ice]")
{
    auto webrtc = makeWebrtcbin();
    REQUIRE(upnpOf(webrtc.get())); // libnice's default, which the gateway must not keep
    std::string error;
    REQUIRE(rc::restrictIceAddresses(webrtc.get(), { "127.0.0.1" }, error));
    CHECK_FALSE(upnpOf(webrtc.get()));
}

TEST_CASE("UPnP is off even with no address restriction", "[ice]")
{
    auto webrtc = makeWebrtcbin();
    std::string error;
    REQUIRE(rc::restrictIceAddresses(webrtc.get(), {}, error));
    CHECK_FALSE(upnpOf(webrtc.get()));
}

TEST_CASE("a bad address is refused with its text", "[ice]")
{
    auto webrtc = makeWebrtcbin();
    std::string error;
    CHECK_FALSE(rc::restrictIceAddresses(webrtc.get(), { "not-an-ip" }, error));
    CHECK(error.find("not-an-ip") != std::string::npos);
}
