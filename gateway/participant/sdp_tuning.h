// The gateway's receive-only offer: codec preferences in template order, Chromium bitrate hints,
// answer reading.
//
// Pure text functions on SDP and caps strings (no GStreamer), safe on any thread.
#pragma once

#include "gateway/media/media_kind.h"

#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

// The codecs to offer for one kind, given what each active participant-scope template accepts
// for that kind (templateCodecs: one list per template, in template order, each in its
// preference order; see templates/template_codecs.h) and whether a room composite is active:
// every codec the templates accept, in the order of first mention (the first template's
// preferences come first), except that a template whose codecs are a strict subset of
// another's goes first (rtmp-passthrough's H264 leads even after record-mkv), and a codec more
// templates take goes before one fewer take (ties keep that order); then, with a
// composite, every codec it can decode (VP8, H264, VP9; OPUS) that is not listed yet; the
// caller keeps only codecs the gateway can depayload. Falls back to a default list when no
// template takes that kind, so the offer still has both m-lines (the protocol asks for
// receive-only audio and video); such a stream goes to a fakesink.
std::vector<std::string> offeredCodecs(
    MediaKind kind, const std::vector<std::vector<std::string>> &templateCodecs, bool composite);

// The codec-preferences caps (GStreamer caps text, one structure per codec)
// for a receive-only transceiver: fixed payload types (VP8 96, VP9 98,
// H264 102, AV1 104, OPUS 111), RTCP feedback (nack, nack pli, ccm fir and
// transport-cc with its header extension on video) and the fmtp parameters
// Chromium expects (H264 42e01f packetization-mode=1, Opus in-band FEC).
// Unknown codecs are skipped.
std::string codecPreferencesCaps(MediaKind kind, const std::vector<std::string> &codecs);

// The fixed payload type of a codec, or -1.
int payloadTypeFor(const std::string &encodingName) noexcept;

struct BitrateHints
{
    int minKbps = 300;
    int startKbps = 1500;
    int maxKbps = 4000;
};

// Adds x-google-min/start/max-bitrate to the fmtp of every video payload
// type of the offer whose codec is VP8, VP9, H264 or AV1 (an fmtp line is
// added after the rtpmap where there is none). Chromium reads these from the
// remote description: they set where its bandwidth estimate starts (from
// its 300 kbit/s default, at which it scales a camera down to 640x360) and
// bound it; transport-cc feedback then moves it. Line endings are kept;
// other lines are untouched.
std::string addBitrateHints(const std::string &sdp, const BitrateHints &hints);

// One m-line of a description as the gateway needs it.
struct MediaSection
{
    unsigned index = 0;
    MediaKind kind = MediaKind::audio;
    bool isMedia = false; // audio or video (false: application, ...)
    std::string mid;
    bool sending = false; // the describing side sends on it: not rejected (port 0 without
                          // bundle-only), sendrecv/sendonly
    std::string codec; // encoding name of its first payload type, upper case ("" if none)
};

// The m-lines of a description, in order.
std::vector<MediaSection> describeSections(const std::string &sdp);

// The codec the describing side sends for kind: that of its first sending
// section of that kind, "" if none.
std::string sendingCodec(const std::string &sdp, MediaKind kind);

// The m-line index for a media id, or nullopt.
std::optional<unsigned> mlineForMid(const std::string &sdp, const std::string &mid);

} // namespace rc::gateway
