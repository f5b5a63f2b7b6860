// The GStreamer elements a component creates in code, so that start-up can refuse early (exit 69)
// when a plugin is missing rather than fail on the first participant.
//
// Each component lists its own (StreamLinker, PeerReceiver, RoomMixer ...) next to the code
// that makes them; config_check collects them. Plain values and pure lookups; call after
// gst_init, on any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace rc {

struct RequiredElement
{
    std::string factory; // e.g. "webrtcbin"
    std::string package; // where it comes from, for the message: "gst-plugins-bad (webrtc)"
};
using RequiredElements = std::vector<RequiredElement>;

// Appends more to list, skipping factories already listed (the first package named stays).
void addRequired(RequiredElements &list, const RequiredElements &more);

// Whether a factory of that name is registered.
bool isElementInstalled(const std::string &factory);

// The first listed element that is not installed, or nullopt when all are.
std::optional<RequiredElement> firstMissing(const RequiredElements &list);

} // namespace rc
