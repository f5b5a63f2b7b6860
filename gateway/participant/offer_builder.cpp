// webrtcbin settings and receive-only transceivers for the gateway's offer; see offer_builder.h.
#include "gateway/participant/offer_builder.h"

#include "common/gst/ice_restriction.h"

namespace rc::gateway {
namespace {

// At most 2 ms per frame of lip-sync correction (audio frames are 20 ms apart).
constexpr guint64 kMaxTsOffsetAdjustment = 2 * GST_MSECOND;

// A jitterbuffer holds the first packet of a stream for its whole latency (200 ms) in case an
// earlier one is still on its way; that wait is most of the time from ICE connected to the first
// keyframe in the file. Once this many packets in sequence are there, nothing earlier is missing
// in practice, and the stream starts at once. Later gaps still wait the full latency (the
// retransmission window is unchanged), and so does a start with a gap in its first packets.
constexpr guint kFastStartPackets = 3;

// rtpbin "new-jitterbuffer", on the streaming thread that makes the jitterbuffer, before its
// first packet. It only sets a property of that new element: no gateway state, nothing to post.
void onNewJitterbuffer(GstElement *, GstElement *jitterbuffer, guint, guint, gpointer)
{
    OfferBuilder::tuneJitterbuffer(jitterbuffer);
}

} // namespace

bool OfferBuilder::prepare(
    GstElement *webrtcbin, const Config &config, std::string &error, bool transceivers)
{
    gst_util_set_object_arg(G_OBJECT(webrtcbin), "bundle-policy", "max-bundle");
    if (!config.stunServer.empty())
        g_object_set(webrtcbin, "stun-server", config.stunServer.c_str(), nullptr);
    if (!config.turnServer.empty())
        g_object_set(webrtcbin, "turn-server", config.turnServer.c_str(), nullptr);
    if (config.relayOnly)
        gst_util_set_object_arg(G_OBJECT(webrtcbin), "ice-transport-policy", "relay");
    if (!restrictIceAddresses(webrtcbin, config.iceLocalAddresses, error))
        return false;

    // rtpbin lip-syncs the streams on every RTCP sender report by shifting
    // each jitterbuffer's output: unbounded, the first report moves a stream
    // by up to hundreds of milliseconds at once, and timestamps that jump
    // back (or get lost) cannot be muxed. Bounded, the same sync converges
    // smoothly while timestamps keep increasing.
    GPtr<GstElement> rtpbin = adopt(gst_bin_get_by_name(GST_BIN(webrtcbin), "rtpbin"));
    if (rtpbin
        && g_object_class_find_property(
            G_OBJECT_GET_CLASS(rtpbin.get()), "max-ts-offset-adjustment"))
        g_object_set(rtpbin.get(), "max-ts-offset-adjustment", kMaxTsOffsetAdjustment, nullptr);
    if (rtpbin)
        g_signal_connect(rtpbin.get(), "new-jitterbuffer", G_CALLBACK(onNewJitterbuffer), nullptr);
    if (!transceivers)
        return true;

    const std::pair<MediaKind, const std::vector<std::string> *> kinds[]
        = { { MediaKind::audio, &config.audioCodecs }, { MediaKind::video, &config.videoCodecs } };
    for (const auto &[kind, codecs] : kinds) {
        std::string capsText = codecPreferencesCaps(kind, *codecs);
        GPtr<GstCaps> caps = adopt(gst_caps_from_string(capsText.c_str()));
        if (!caps) {
            error = "bad codec preferences: " + capsText;
            return false;
        }
        GstWebRTCRTPTransceiver *raw = nullptr;
        g_signal_emit_by_name(webrtcbin, "add-transceiver",
            GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(), &raw);
        auto transceiver = adopt(raw); // the signal returns a new reference
        if (!transceiver) {
            error = std::string("webrtcbin refused a ") + mediaKindName(kind) + " transceiver";
            return false;
        }
        // Retransmissions for video (rtx), as the offer's "nack" promises.
        if (kind == MediaKind::video
            && g_object_class_find_property(G_OBJECT_GET_CLASS(raw), "do-nack"))
            g_object_set(raw, "do-nack", TRUE, nullptr);
    }
    return true;
}

void OfferBuilder::tuneJitterbuffer(GstElement *jitterbuffer)
{
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(jitterbuffer), "faststart-min-packets"))
        g_object_set(jitterbuffer, "faststart-min-packets", kFastStartPackets, nullptr);
}

GPtr<GstWebRTCSessionDescription> OfferBuilder::description(
    GstWebRTCSDPType type, const std::string &sdp)
{
    GstSDPMessage *message = nullptr;
    gst_sdp_message_new_from_text(sdp.c_str(), &message);
    if (!message)
        return nullptr;
    // The description takes the SDP message.
    return adopt(gst_webrtc_session_description_new(type, message));
}

} // namespace rc::gateway
