// Restricts a webrtcbin's ICE host candidates to given local addresses, and restarts its ICE by
// hand (webrtcbin 1.22 has no ICE restart of its own).
//
// libnice gathers every interface address by default; on this project's
// machines only loopback may carry traffic, so every webrtcbin we create
// (gateway, test peer, benches) goes through here before it gathers.
#pragma once

#include <gst/gst.h>

#include <optional>
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

struct IceCredentials
{
    std::string ufrag, pwd;
};
// One ICE stream's local credentials before and after a restart.
struct IceCredentialChange
{
    IceCredentials before, after;
};

// Restarts every ICE stream of webrtcbin's libnice agent (nice_agent_restart_stream: new local
// ufrag and password, connectivity checks and remote candidates dropped, local candidates
// kept) and says how each stream's local credentials changed. webrtcbin 1.22 has no
// "ice-restart" offer option: its next offer repeats the old credentials, so the caller
// rewrites them (see gateway/participant/ice_restart.h) before set-local-description, which
// then hands the agent the credentials it already has. nullopt with error when the agent is
// not libnice or has no stream.
std::optional<std::vector<IceCredentialChange>> restartIceStreams(
    GstElement *webrtcbin, std::string &error);

// The agent's local candidates of component 1 (RTP; rtcp-mux and bundle are always on) of
// every stream, as "candidate:..." lines: after a restart webrtcbin does not gather again, so
// the peer's new ICE generation must be told them by hand.
std::vector<std::string> localIceCandidates(GstElement *webrtcbin);

} // namespace rc
