// Codec and direction planning for a test peer's offers and answers; see codec_plan.h.
#include "testpeer/codec_plan.h"

#include <cstdlib>
#include <cstring>

namespace rc::testpeer {
namespace {

enum class Direction { sendrecv, sendonly, recvonly, inactive };

std::optional<Direction> directionAttribute(
    guint count, const GstSDPAttribute *(*get)(const void *, guint), const void *owner)
{
    for (guint i = 0; i < count; ++i) {
        const GstSDPAttribute *attr = get(owner, i);
        if (!attr || !attr->key)
            continue;
        if (std::strcmp(attr->key, "sendrecv") == 0)
            return Direction::sendrecv;
        if (std::strcmp(attr->key, "sendonly") == 0)
            return Direction::sendonly;
        if (std::strcmp(attr->key, "recvonly") == 0)
            return Direction::recvonly;
        if (std::strcmp(attr->key, "inactive") == 0)
            return Direction::inactive;
    }
    return std::nullopt;
}

bool hasAttribute(const GstSDPMedia *media, const char *key)
{
    for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
        const GstSDPAttribute *attr = gst_sdp_media_get_attribute(media, i);
        if (attr && attr->key && std::strcmp(attr->key, key) == 0)
            return true;
    }
    return false;
}

const GstSDPAttribute *mediaAttribute(const void *media, guint i)
{
    return gst_sdp_media_get_attribute(static_cast<const GstSDPMedia *>(media), i);
}

const GstSDPAttribute *messageAttribute(const void *msg, guint i)
{
    return gst_sdp_message_get_attribute(static_cast<const GstSDPMessage *>(msg), i);
}

// The direction the offerer declared for media (RFC 4566: media level wins,
// then session level, default sendrecv). A zero port rejects the m-line,
// unless a=bundle-only says it rides on the BUNDLE transport (RFC 8843).
Direction offeredDirection(const GstSDPMessage *offer, const GstSDPMedia *media)
{
    if (gst_sdp_media_get_port(media) == 0 && !hasAttribute(media, "bundle-only"))
        return Direction::inactive;
    if (auto d = directionAttribute(gst_sdp_media_attributes_len(media), mediaAttribute, media))
        return *d;
    if (auto d = directionAttribute(gst_sdp_message_attributes_len(offer), messageAttribute, offer))
        return *d;
    return Direction::sendrecv;
}

MediaKind kindOf(const GstSDPMedia *media)
{
    const char *m = gst_sdp_media_get_media(media);
    if (m && std::strcmp(m, "video") == 0)
        return MediaKind::video;
    if (m && std::strcmp(m, "audio") == 0)
        return MediaKind::audio;
    return MediaKind::other;
}

std::string stringField(const GstStructure *s, const char *name)
{
    const char *v = gst_structure_get_string(s, name);
    return v ? v : "";
}

// Ranks an offered H264 format for our x264enc stream (constrained baseline,
// packetization mode 1); 0 = unusable.
int h264Score(const GstStructure *s)
{
    if (stringField(s, "packetization-mode") != "1")
        return 0;
    std::string plid = stringField(s, "profile-level-id");
    if (plid.size() != 6)
        return 1;
    if (g_ascii_strcasecmp(plid.c_str(), "42e01f") == 0)
        return 4;
    if (g_ascii_strncasecmp(plid.c_str(), "42", 2) != 0)
        return 1;
    unsigned iop = static_cast<unsigned>(std::strtoul(plid.substr(2, 2).c_str(), nullptr, 16));
    return (iop & 0x40) ? 3 : 2; // constraint_set1: baseline decodable as constrained
}

int formatPt(const GstSDPMedia *media, guint i)
{
    const char *fmt = gst_sdp_media_get_format(media, i);
    return fmt ? std::atoi(fmt) : -1;
}

// The first format in media whose encoding-name is one of names, or -1.
int firstPtNamed(const GstSDPMedia *media, std::initializer_list<const char *> names)
{
    for (guint i = 0; i < gst_sdp_media_formats_len(media); ++i) {
        int pt = formatPt(media, i);
        auto caps = capsForPt(media, pt);
        if (!caps || gst_caps_is_empty(caps.get()))
            continue;
        std::string enc = stringField(gst_caps_get_structure(caps.get(), 0), "encoding-name");
        for (const char *n : names)
            if (g_ascii_strcasecmp(enc.c_str(), n) == 0)
                return pt;
    }
    return -1;
}

GPtr<GstCaps> parseCaps(const std::string &text)
{
    return GPtr<GstCaps>(gst_caps_from_string(text.c_str()));
}

} // namespace

const char *videoCodecName(VideoCodec codec) noexcept
{
    switch (codec) {
    case VideoCodec::h264:
        return "H264";
    case VideoCodec::vp9:
        return "VP9";
    case VideoCodec::vp8:
        break;
    }
    return "VP8";
}

std::optional<VideoCodec> parseVideoCodec(const std::string &text) noexcept
{
    if (g_ascii_strcasecmp(text.c_str(), "vp8") == 0)
        return VideoCodec::vp8;
    if (g_ascii_strcasecmp(text.c_str(), "h264") == 0)
        return VideoCodec::h264;
    if (g_ascii_strcasecmp(text.c_str(), "vp9") == 0)
        return VideoCodec::vp9;
    return std::nullopt;
}

GPtr<GstCaps> videoSendCaps(VideoCodec codec, int pt)
{
    // PLI and FIR let a receiver ask our encoder for a keyframe at once.
    std::string common = "application/x-rtp,media=video,clock-rate=90000,payload="
        + std::to_string(pt) + ",rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true";
    if (codec == VideoCodec::vp8)
        return parseCaps(common + ",encoding-name=VP8");
    // Profile 0 (8-bit 4:2:0): what vp9enc makes from I420 and what every receiver takes.
    if (codec == VideoCodec::vp9)
        return parseCaps(common + ",encoding-name=VP9,profile-id=(string)0");
    return parseCaps(common
        + ",encoding-name=H264,packetization-mode=(string)1,"
          "level-asymmetry-allowed=(string)1,profile-level-id=(string)"
        + std::string(kH264ProfileLevelId));
}

GPtr<GstCaps> opusCaps(int pt)
{
    return parseCaps("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,"
                     "encoding-params=(string)2,minptime=(string)10,useinbandfec=(string)1,payload="
        + std::to_string(pt));
}

GPtr<GstCaps> videoReceiveCaps(int vp8Pt, int h264Pt)
{
    auto caps = videoSendCaps(VideoCodec::vp8, vp8Pt);
    gst_caps_append(caps.get(), videoSendCaps(VideoCodec::h264, h264Pt).release());
    return caps;
}

GstWebRTCRTPTransceiverDirection LinePlan::direction() const noexcept
{
    if (send && receive)
        return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV;
    if (send)
        return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;
    if (receive)
        return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY;
    return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE;
}

GPtr<GstCaps> capsForPt(const GstSDPMedia *media, int pt)
{
    if (pt < 0)
        return nullptr;
    GPtr<GstCaps> caps(gst_sdp_media_get_caps_from_media(media, pt));
    if (!caps || gst_caps_is_empty(caps.get()))
        return nullptr;
    caps.reset(gst_caps_make_writable(caps.release()));
    GstStructure *s = gst_caps_get_structure(caps.get(), 0);
    gst_structure_set_name(s, "application/x-rtp");
    // webrtcbin matches codec preferences against its own upper-case names.
    if (const char *enc = gst_structure_get_string(s, "encoding-name")) {
        GPtr<char> upper(g_ascii_strup(enc, -1));
        gst_structure_set(s, "encoding-name", G_TYPE_STRING, upper.get(), nullptr);
    }
    return caps;
}

int findVideoPt(const GstSDPMedia *media, VideoCodec codec)
{
    if (codec == VideoCodec::vp8)
        return firstPtNamed(media, { "VP8" });
    if (codec == VideoCodec::vp9)
        return firstPtNamed(media, { "VP9" });
    int best = -1, bestScore = 0;
    for (guint i = 0; i < gst_sdp_media_formats_len(media); ++i) {
        int pt = formatPt(media, i);
        auto caps = capsForPt(media, pt);
        if (!caps)
            continue;
        const GstStructure *s = gst_caps_get_structure(caps.get(), 0);
        if (g_ascii_strcasecmp(stringField(s, "encoding-name").c_str(), "H264") != 0)
            continue;
        int score = h264Score(s);
        if (score > bestScore) {
            best = pt;
            bestScore = score;
        }
    }
    return best;
}

int findOpusPt(const GstSDPMedia *media)
{
    return firstPtNamed(media, { "OPUS" });
}

std::vector<LinePlan> planAnswer(const GstSDPMessage *offer, VideoCodec ours)
{
    std::vector<LinePlan> plans;
    bool videoPlaced = false, audioPlaced = false;
    for (guint i = 0; i < gst_sdp_message_medias_len(offer); ++i) {
        const GstSDPMedia *media = gst_sdp_message_get_media(offer, i);
        LinePlan plan;
        plan.index = i;
        plan.kind = kindOf(media);
        if (plan.kind == MediaKind::other) {
            plans.push_back(std::move(plan));
            continue;
        }
        Direction dir = offeredDirection(offer, media);
        bool offererReceives = dir == Direction::sendrecv || dir == Direction::recvonly;
        bool offererSends = dir == Direction::sendrecv || dir == Direction::sendonly;
        bool &placed = plan.kind == MediaKind::video ? videoPlaced : audioPlaced;
        int ourPt = plan.kind == MediaKind::video ? findVideoPt(media, ours) : findOpusPt(media);
        if (offererReceives && !placed && ourPt >= 0) {
            placed = true;
            plan.send = true;
            plan.receive = offererSends;
            plan.pt = ourPt;
        } else if (offererSends) {
            plan.pt
                = plan.kind == MediaKind::video ? firstPtNamed(media, { "VP8", "H264" }) : ourPt;
            plan.receive = plan.pt >= 0;
        }
        // An inactive m-line still needs a codec the offer knows, or webrtcbin
        // finds no intersection and fails the whole answer.
        if (plan.pt < 0 && gst_sdp_media_formats_len(media) > 0)
            plan.pt = formatPt(media, 0);
        plan.caps = capsForPt(media, plan.pt);
        plans.push_back(std::move(plan));
    }
    return plans;
}

std::string h264ProfileLevelId(const GstCaps *caps)
{
    if (caps && !gst_caps_is_empty(caps)) {
        const char *v
            = gst_structure_get_string(gst_caps_get_structure(caps, 0), "profile-level-id");
        if (v && *v)
            return v;
    }
    return kH264ProfileLevelId;
}

std::optional<std::string> midOf(const GstSDPMessage *sdp, unsigned index)
{
    if (!sdp || index >= gst_sdp_message_medias_len(sdp))
        return std::nullopt;
    const char *mid = gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(sdp, index), "mid");
    if (!mid)
        return std::nullopt;
    return std::string(mid);
}

std::optional<unsigned> indexOfMid(const GstSDPMessage *sdp, const std::string &mid)
{
    if (!sdp)
        return std::nullopt;
    for (guint i = 0; i < gst_sdp_message_medias_len(sdp); ++i) {
        const char *m = gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(sdp, i), "mid");
        if (m && mid == m)
            return i;
    }
    return std::nullopt;
}

} // namespace rc::testpeer
