// Restricts a webrtcbin's ICE host candidates to given local addresses.
//
// libnice gathers every interface address by default; on this project's
// machines only loopback may carry traffic, so every webrtcbin we create
// (gateway, test peer, benches) goes through here before it gathers.
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace rc {

// Turns libnice's UPnP port mapping off and adds each address with NiceAgent's
// add_local_address on webrtcbin's "ice-agent"; once any is added, libnice
// gathers only those (none: every interface). Returns false
// and fills error if an address does not parse or the agent is not libnice.
// Call on a webrtcbin in NULL state, before any offer or answer.
bool restrictIceAddresses(
    GstElement *webrtcbin, const std::vector<std::string> &addresses, std::string &error);

} // namespace rc
