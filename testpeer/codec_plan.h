// What each m-line of a test peer's offer or answer carries: codecs, payload types, directions.
//
// Pure functions over GstSDPMessage and GstCaps; safe on any thread. The
// answer side takes payload types from the remote offer (a gateway or a
// browser picks its own numbers), so the payloaders are set to match it.
#pragma once

#include "common/gst/gst_ptr.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <optional>
#include <string>
#include <vector>

namespace rc::testpeer {

enum class VideoCodec { vp8, h264, vp9 };
enum class MediaKind { audio, video, other };

const char *videoCodecName(VideoCodec codec) noexcept; // "VP8" / "H264" / "VP9", as in rtpmap
// "vp8" / "h264" / "vp9"
std::optional<VideoCodec> parseVideoCodec(const std::string &text) noexcept;

// Payload types of the offers a test peer makes; unique across m-lines so a
// BUNDLEd receiver can tell them apart by payload type alone.
inline constexpr int kOfferSendVp8Pt = 96;
inline constexpr int kOfferSendH264Pt = 102;
inline constexpr int kOfferSendVp9Pt = 100;
inline constexpr int kOfferRecvVp8Pt = 97;
inline constexpr int kOfferRecvH264Pt = 98;
inline constexpr int kOfferOpusPt = 111;
// What our H264 m-lines declare: constrained baseline, level 3.1.
inline constexpr const char *kH264ProfileLevelId = "42e01f";

// RTP caps (webrtcbin codec preferences) for what we send.
GPtr<GstCaps> videoSendCaps(VideoCodec codec, int pt);
GPtr<GstCaps> opusCaps(int pt);
// Every video codec a test peer can receive (it counts frames, never decodes).
GPtr<GstCaps> videoReceiveCaps(int vp8Pt, int h264Pt);

// One m-line of our answer to a remote offer.
struct LinePlan
{
    unsigned index = 0;
    MediaKind kind = MediaKind::other;
    bool send = false; // attach our track of this kind
    bool receive = false; // the offerer sends here
    int pt = -1; // payload type chosen from the offer (-1: none usable)
    GPtr<GstCaps> caps; // codec preferences: the offer's caps for pt
    GstWebRTCRTPTransceiverDirection direction() const noexcept;
};

// Our track of each kind goes on the first m-line of that kind whose offer
// direction lets us send and that offers our codec (OPUS for audio); an
// offered send-only m-line is received; everything else is inactive.
std::vector<LinePlan> planAnswer(const GstSDPMessage *offer, VideoCodec ours);

// The payload type in media that carries codec (for H264, packetization
// mode 1 and constrained baseline preferred), or -1.
int findVideoPt(const GstSDPMedia *media, VideoCodec codec);
int findOpusPt(const GstSDPMedia *media);

// The offer's caps for one payload type, named application/x-rtp (rtpmap,
// fmtp and rtcp-fb folded in, as webrtcbin reads codec preferences).
GPtr<GstCaps> capsForPt(const GstSDPMedia *media, int pt);

// The profile-level-id field of H264 caps, or kH264ProfileLevelId.
std::string h264ProfileLevelId(const GstCaps *caps);

// The media id of m-line index in sdp, or nullopt.
std::optional<std::string> midOf(const GstSDPMessage *sdp, unsigned index);
// The index of the m-line whose mid is mid, or nullopt.
std::optional<unsigned> indexOfMid(const GstSDPMessage *sdp, const std::string &mid);

} // namespace rc::testpeer
