// A WHIP publisher for the tests (RFC 9725): a live test picture (VP8 or H264) and a tone (Opus)
// through a send-only webrtcbin, its offer POSTed with every candidate, the answer set, media for
// --seconds, then DELETE on the session's Location (unless --no-delete: a publisher that
// vanishes).
//
// A test program: one thread drives it step by step (promises are waited for), webrtcbin's
// streaming threads do the rest. Prints "status N", "location L" and "deleted N" lines.
#include "sdp_http_client.h"

#include "common/base/gptr.h"
#include "common/gst/gst_ptr.h"
#include "common/gst/ice_restriction.h"
#include "gateway/participant/whip_offer.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <libsoup/soup.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

struct Options
{
    std::string url, codec = "vp8", token;
    double seconds = 5;
    bool remove = true;
    bool audio = true;
};

Options parse(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--url")
            o.url = value();
        else if (a == "--codec")
            o.codec = value();
        else if (a == "--token")
            o.token = value();
        else if (a == "--seconds")
            o.seconds = std::atof(value().c_str());
        else if (a == "--no-delete")
            o.remove = false;
        else if (a == "--no-audio")
            o.audio = false;
    }
    return o;
}

std::string pipelineText(const Options &o)
{
    std::string video = o.codec == "h264"
        ? "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=800 ! "
          "video/x-h264,profile=constrained-baseline ! h264parse ! rtph264pay "
          "config-interval=-1 pt=102 aggregate-mode=zero-latency ! "
          "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
          "packetization-mode=(string)1"
        : "vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=800000 ! rtpvp8pay pt=96 ! "
          "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000";
    std::string text = "webrtcbin name=webrtc bundle-policy=max-bundle "
                       "videotestsrc is-live=true pattern=ball ! "
                       "video/x-raw,width=640,height=360,framerate=30/1 ! videoconvert ! "
        + video + " ! webrtc. ";
    if (o.audio)
        text += "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! "
                "opusenc ! rtpopuspay pt=111 ! "
                "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! "
                "webrtc. ";
    return text;
}

} // namespace

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    const Options o = parse(argc, argv);
    if (o.url.empty()) {
        std::fprintf(stderr,
            "usage: whip-publisher --url URL [--codec vp8|h264] [--seconds N] "
            "[--token T] [--no-delete] [--no-audio]\n");
        return 64;
    }
    GError *error = nullptr;
    GstElement *pipeline = gst_parse_launch(pipelineText(o).c_str(), &error);
    if (!pipeline) {
        std::fprintf(stderr, "pipeline: %s\n", error ? error->message : "?");
        return 77; // an encoder is missing: a skip
    }
    GstElement *webrtc = gst_bin_get_by_name(GST_BIN(pipeline), "webrtc");
    std::string why;
    if (!rc::restrictIceAddresses(webrtc, { "127.0.0.1" }, why)) {
        std::fprintf(stderr, "ICE: %s\n", why.c_str());
        return 70;
    }
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    gst_element_get_state(pipeline, nullptr, nullptr, 5 * GST_SECOND);
    // Send-only: RFC 9725's publisher never receives.
    GArray *transceivers = nullptr;
    g_signal_emit_by_name(webrtc, "get-transceivers", &transceivers);
    for (guint i = 0; transceivers && i < transceivers->len; ++i)
        g_object_set(g_array_index(transceivers, GstWebRTCRTPTransceiver *, i), "direction",
            GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, nullptr);
    if (transceivers)
        g_array_unref(transceivers);

    GstStructure *reply = rc::test::callWebrtc(webrtc, "create-offer", nullptr);
    GstWebRTCSessionDescription *offer = nullptr;
    if (reply)
        gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
    if (!offer) {
        std::fprintf(stderr, "no offer\n");
        return 70;
    }
    gst_structure_free(reply);
    if (GstStructure *r = rc::test::callWebrtc(webrtc, "set-local-description", offer))
        gst_structure_free(r);
    for (int i = 0; i < 100; ++i) {
        GstWebRTCICEGatheringState state;
        g_object_get(webrtc, "ice-gathering-state", &state, nullptr);
        if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
            break;
        g_usleep(50000);
    }
    gchar *text = gst_sdp_message_as_text(offer->sdp);
    const std::string sdp = rc::gateway::withLocalCandidates(text, rc::localIceCandidates(webrtc));
    g_free(text);
    gst_webrtc_session_description_free(offer);

    SoupSession *session = soup_session_new();
    std::string answer, location;
    const guint status
        = rc::test::sendSdpRequest(session, "POST", o.url, o.token, sdp, answer, location);
    std::printf("status %u\nlocation %s\n", status, location.c_str());
    std::fflush(stdout);
    if (status != 201) {
        std::fprintf(stderr, "refused: %s\n", answer.c_str());
        return 2;
    }
    GstSDPMessage *message = nullptr;
    gst_sdp_message_new_from_text(answer.c_str(), &message);
    if (!message) {
        std::fprintf(stderr, "unparsable answer\n");
        return 2;
    }
    GstWebRTCSessionDescription *remote
        = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, message);
    if (GstStructure *r = rc::test::callWebrtc(webrtc, "set-remote-description", remote))
        gst_structure_free(r);
    gst_webrtc_session_description_free(remote);

    // Media for the given time, stopping early on a pipeline error.
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *fault = gst_bus_timed_pop_filtered(
        bus, static_cast<GstClockTime>(o.seconds * GST_SECOND), GST_MESSAGE_ERROR);
    int rc = 0;
    if (fault) {
        GError *err = nullptr;
        gst_message_parse_error(fault, &err, nullptr);
        std::fprintf(stderr, "pipeline error: %s\n", err ? err->message : "?");
        g_clear_error(&err);
        gst_message_unref(fault);
        rc = 3;
    }
    gst_object_unref(bus);
    GstWebRTCICEConnectionState ice;
    g_object_get(webrtc, "ice-connection-state", &ice, nullptr);
    std::printf("ice %d\n", static_cast<int>(ice));
    if (o.remove) {
        std::string ignored, none;
        const guint deleted = rc::test::sendSdpRequest(session, "DELETE",
            rc::test::resolveLocation(o.url, location), o.token, "", ignored, none);
        std::printf("deleted %u\n", deleted);
        if (deleted != 200 && deleted != 204)
            rc = rc ? rc : 4;
    } else {
        std::printf("vanishing\n");
        std::fflush(stdout);
        _exit(rc); // no DELETE, no DTLS close, no ICE goodbye: a publisher that is just gone
    }
    std::fflush(stdout);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(webrtc);
    gst_object_unref(pipeline);
    g_object_unref(session);
    return rc;
}
