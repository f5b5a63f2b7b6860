// The SDP half of an ICE restart on an existing webrtcbin: our new offer with the ICE
// credentials libnice chose when its streams were restarted (webrtcbin 1.22 repeats the old
// ones). Pure text work, no GStreamer.
//
// Free functions; thread-agnostic.
#pragma once

#include "common/gst/ice_restriction.h"

#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

// sdp with every a=ice-ufrag / a=ice-pwd of a restarted stream replaced by its new value (each
// change's before → after; with a single change, every credential becomes its after, since
// one bundled stream serves every section). nullopt when, with several streams, a section
// carries credentials no change names: the offer would not match the agent, and the restart
// must not go out half done.
std::optional<std::string> withRestartedIceCredentials(
    const std::string &sdp, const std::vector<IceCredentialChange> &changes);

} // namespace rc::gateway
