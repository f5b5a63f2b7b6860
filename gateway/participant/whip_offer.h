// A WHIP publisher's offer made fit for webrtcbin's answer (RFC 9725), and our answer with
// every local candidate in it (WHIP answers once; trickle ICE is optional).
//
// Pure text functions on SDP (no GStreamer), safe on any thread; the offer is untrusted input.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

struct WhipOffer
{
    std::string sdp; // only the payload types we keep, in our preference order
    std::string videoCodec, audioCodec; // what the publisher will send, "" for none
};

// Limits on an offer, beyond the HTTP body limit: a browser offers 2 to 3 m-lines with lines
// under 1 kB.
constexpr size_t kWhipMaxSections = 8;
constexpr size_t kWhipMaxLine = 4096;

// Keeps, in every audio/video m-line the publisher sends on (sendonly or sendrecv), the one
// payload type of the first codec of videoCodecs / audioCodecs (our preference order, upper
// case encoding names such as "VP8", "H264", "OPUS") that it offers, with its rtpmap, fmtp and
// rtcp-fb lines; H264 packetization-mode=1 first (constrained baseline 42e0xx first), then mode 0,
// never 2; VP9 profile 0 first. Other m-lines (data channels, codecs we cannot take, receive-only
// ones) are rejected (port 0, out of the BUNDLE group). Retransmission and FEC payloads (rtx, red,
// ulpfec) go with their ssrc-groups. nullopt with error (a message for the publisher) when the
// text is not an SDP offer, is out of bounds, or has nothing we can take.
std::optional<WhipOffer> takeWhipOffer(const std::string &sdp,
    const std::vector<std::string> &videoCodecs, const std::vector<std::string> &audioCodecs,
    std::string &error);

// The answer with candidates ("candidate:..." as trickle ICE carries them) and
// a=end-of-candidates in its first accepted m-line: the BUNDLE transport every m-line shares
// (the gateway bundles with max-bundle). Line endings follow the answer's.
std::string withLocalCandidates(
    const std::string &answer, const std::vector<std::string> &candidates);

} // namespace rc::gateway
