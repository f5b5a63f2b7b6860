// Checks a WHEP viewer's SDP offer before webrtcbin sees it: size, m-lines, directions, and the
// payload types the viewer chose for H.264 (packetization-mode 1, baseline family) and Opus.
//
// Pure code: safe on any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rc::gateway {

struct WhepOffer
{
    int videoPt = -1; // the offer's payload type for H.264; -1: no video m-line we can serve
    std::string videoFmtp; // its fmtp parameters ("profile-level-id=42e01f;...")
    int audioPt = -1; // Opus/48000/2; -1: no audio m-line we can serve
};

struct WhepOfferError
{
    std::string message; // for the 400 answer
};

// Upper bounds that keep a hostile offer cheap (the control API's body limit comes first).
constexpr size_t kWhepMaxOfferLines = 2000;
constexpr int kWhepMaxMediaSections = 4;

// The offer's video and audio choices, or why it cannot be served: not SDP, no media, too many
// m-lines or lines, an m-line that only sends (a viewer receives), no H.264 baseline with
// packetization-mode 1 and no Opus at all.
std::optional<WhepOffer> parseWhepOffer(std::string_view sdp, WhepOfferError &error);

} // namespace rc::gateway
