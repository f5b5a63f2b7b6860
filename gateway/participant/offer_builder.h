// Prepares a receive-only webrtcbin for the gateway's offer: ICE and STUN/TURN settings, bounded
// lip-sync, and the audio/video transceivers whose codec preferences come from the templates.
//
// Functions called on the gateway's main context on a webrtcbin in NULL state,
// before any negotiation; they keep no state.
#pragma once

#include "common/gst/gst_ptr.h"
#include "gateway/participant/sdp_tuning.h"

#include <string>
#include <vector>

namespace rc::gateway {

class OfferBuilder
{
public:
    struct Config
    {
        std::vector<std::string> iceLocalAddresses;
        std::string stunServer, turnServer;
        bool relayOnly = false; // ice-transport-policy relay
        std::vector<std::string> videoCodecs, audioCodecs; // in preference order
    };

    // max-bundle, STUN/TURN, ICE host candidates restricted to the given
    // addresses, bounded RTCP lip-sync, jitterbuffers that start without waiting their latency,
    // then one receive-only transceiver per kind (none without transceivers: the peer offers, and
    // webrtcbin makes them from its offer). False with error if webrtcbin refuses any of it.
    static bool prepare(
        GstElement *webrtcbin, const Config &config, std::string &error, bool transceivers = true);

    // What prepare() does to each jitterbuffer webrtcbin makes: start a stream once a few packets
    // in sequence are there, instead of after the jitterbuffer's latency. Any thread.
    static void tuneJitterbuffer(GstElement *jitterbuffer);

    // An SDP text as a session description for set-local/remote-description.
    static GPtr<GstWebRTCSessionDescription> description(
        GstWebRTCSDPType type, const std::string &sdp);
};

} // namespace rc::gateway
