// Light WHEP viewers for the tests and the bench (draft-ietf-wish-whep): N receive-only
// webrtcbins in one process, each POSTing its offer (every candidate included), applying the
// answer and counting the H.264 frames it receives after depayloading (no decoding, so that a
// viewer costs next to nothing on a 2-core machine), then DELETE on each session's Location.
//
// Frames are access units holding a slice; keyframes those holding an IDR slice.
//
// A test program: the main thread drives it step by step (promises are waited for); each
// viewer's webrtcbin streaming threads only bump atomic counters. Prints "viewer I status N"
// lines while connecting, one "sample" JSON line a second, and one final JSON report line.
#include "sdp_http_client.h"

#include "common/gst/ice_restriction.h"
#include "gateway/participant/whip_offer.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <libsoup/soup.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options
{
    std::string url, token;
    int viewers = 1;
    double seconds = 10;
    // Each viewer asks for a keyframe (an RTCP PLI) this often; 0: only the depayloader's own
    // requests after a loss, as a browser does.
    int pliMs = 0;
};

Options parse(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--url")
            o.url = value();
        else if (a == "--token")
            o.token = value();
        else if (a == "--viewers")
            o.viewers = std::atoi(value().c_str());
        else if (a == "--seconds")
            o.seconds = std::atof(value().c_str());
        else if (a == "--pli-ms")
            o.pliMs = std::atoi(value().c_str());
    }
    return o;
}

// One viewer: its pipeline (webrtcbin alone until the answer's pads appear) and its counters,
// written by webrtcbin's streaming threads.
struct Viewer
{
    int index = 0;
    GstElement *pipeline = nullptr;
    GstElement *webrtc = nullptr;
    // The depayloader's sink pad (owned), for keyframe requests: set on a streaming thread.
    std::atomic<GstPad *> videoSink { nullptr };
    std::atomic<guint64> frames { 0 }, keyframes { 0 }, bytes { 0 }, audio { 0 };
    guint status = 0;
    std::string location, error;
    std::vector<guint64> samples, keySamples;
    ~Viewer()
    {
        if (GstPad *pad = videoSink.exchange(nullptr))
            gst_object_unref(pad);
        if (pipeline) {
            gst_element_set_state(pipeline, GST_STATE_NULL);
            gst_object_unref(webrtc);
            gst_object_unref(pipeline);
        }
    }
};

// The NAL unit types of a byte-stream access unit: whether it holds a picture (a slice) and
// whether that is an IDR. The payloader sends SPS/PPS ahead of each IDR, which the depayloader
// may give as an access unit of its own: that one is not a frame.
void scanNals(const guint8 *data, gsize size, bool &slice, bool &idr) noexcept
{
    for (gsize i = 0; i + 3 < size; ++i) {
        if (data[i] != 0 || data[i + 1] != 0 || data[i + 2] != 1)
            continue;
        const guint8 type = data[i + 3] & 0x1f;
        slice = slice || type == 1 || type == 5;
        idr = idr || type == 5;
        i += 3;
    }
}

GstPadProbeReturn countFrame(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    auto *v = static_cast<Viewer *>(data);
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
    GstMapInfo map;
    bool slice = false, idr = false;
    if (gst_buffer_map(b, &map, GST_MAP_READ)) {
        scanNals(map.data, map.size, slice, idr);
        gst_buffer_unmap(b, &map);
    }
    v->bytes.fetch_add(gst_buffer_get_size(b), std::memory_order_relaxed);
    if (slice)
        v->frames.fetch_add(1, std::memory_order_relaxed);
    if (idr)
        v->keyframes.fetch_add(1, std::memory_order_relaxed);
    return GST_PAD_PROBE_OK;
}

GstPadProbeReturn countAudio(GstPad *, GstPadProbeInfo *, gpointer data) noexcept
{
    static_cast<Viewer *>(data)->audio.fetch_add(1, std::memory_order_relaxed);
    return GST_PAD_PROBE_OK;
}

// webrtcbin's receive pads must be linked before their first buffer (an unlinked pad fails the
// session), so this links on the streaming thread that announces the pad.
void padAdded(GstElement *, GstPad *pad, gpointer data) noexcept
{
    auto *v = static_cast<Viewer *>(data);
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
        return;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (!caps)
        caps = gst_pad_query_caps(pad, nullptr);
    const GstStructure *s = gst_caps_get_size(caps) ? gst_caps_get_structure(caps, 0) : nullptr;
    const char *media = s ? gst_structure_get_string(s, "media") : nullptr;
    const bool video = media && std::string(media) == "video";
    gst_caps_unref(caps);
    GstElement *sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    GstElement *first = sink;
    if (video) {
        GstElement *depay = gst_element_factory_make("rtph264depay", nullptr);
        GstElement *filter = gst_element_factory_make("capsfilter", nullptr);
        GstCaps *au = gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au");
        g_object_set(filter, "caps", au, nullptr);
        gst_caps_unref(au);
        // As a browser does: a keyframe request (PLI) after a loss, no output until a keyframe.
        g_object_set(depay, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, nullptr);
        gst_bin_add_many(GST_BIN(v->pipeline), depay, filter, sink, nullptr);
        gst_element_link_many(depay, filter, sink, nullptr);
        GstPad *in = gst_element_get_static_pad(sink, "sink");
        gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_BUFFER, countFrame, v, nullptr);
        gst_object_unref(in);
        for (GstElement *e : { sink, filter, depay })
            gst_element_sync_state_with_parent(e);
        first = depay;
        GstPad *depaySink = gst_element_get_static_pad(depay, "sink");
        if (GstPad *old = v->videoSink.exchange(depaySink))
            gst_object_unref(old);
    } else {
        gst_bin_add(GST_BIN(v->pipeline), sink);
        GstPad *in = gst_element_get_static_pad(sink, "sink");
        gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_BUFFER, countAudio, v, nullptr);
        gst_object_unref(in);
        gst_element_sync_state_with_parent(sink);
    }
    GstPad *target = gst_element_get_static_pad(first, "sink");
    if (gst_pad_link(pad, target) != GST_PAD_LINK_OK)
        std::fprintf(
            stderr, "viewer %d: cannot link the %s pad\n", v->index, video ? "video" : "audio");
    gst_object_unref(target);
}

void addRecvonly(GstElement *webrtc, const char *capsText)
{
    GstCaps *caps = gst_caps_from_string(capsText);
    GstWebRTCRTPTransceiver *t = nullptr;
    g_signal_emit_by_name(
        webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
    if (t)
        gst_object_unref(t);
    gst_caps_unref(caps);
}

// Builds viewer v, offers, POSTs and applies the answer; false with v.error on any failure.
bool connect(Viewer &v, SoupSession *session, const Options &o)
{
    v.pipeline = gst_pipeline_new(("viewer-" + std::to_string(v.index)).c_str());
    v.webrtc = gst_element_factory_make("webrtcbin", nullptr);
    if (!v.webrtc) {
        v.error = "no webrtcbin";
        return false;
    }
    gst_object_ref(v.webrtc);
    g_object_set(v.webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
    if (!rc::restrictIceAddresses(v.webrtc, { "127.0.0.1" }, v.error))
        return false;
    gst_bin_add(GST_BIN(v.pipeline), v.webrtc);
    g_signal_connect(v.webrtc, "pad-added", G_CALLBACK(padAdded), &v);
    addRecvonly(v.webrtc,
        "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=102,"
        "packetization-mode=(string)1,profile-level-id=(string)42e01f,rtcp-fb-nack-pli=(boolean)"
        "true");
    addRecvonly(
        v.webrtc, "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111");
    gst_element_set_state(v.pipeline, GST_STATE_PLAYING);

    GstStructure *reply = rc::test::callWebrtc(v.webrtc, "create-offer", nullptr);
    GstWebRTCSessionDescription *offer = nullptr;
    if (reply) {
        gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
        gst_structure_free(reply);
    }
    if (!offer) {
        v.error = "no offer";
        return false;
    }
    if (GstStructure *r = rc::test::callWebrtc(v.webrtc, "set-local-description", offer))
        gst_structure_free(r);
    for (int i = 0; i < 200; ++i) {
        GstWebRTCICEGatheringState state;
        g_object_get(v.webrtc, "ice-gathering-state", &state, nullptr);
        if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
            break;
        g_usleep(50000);
    }
    gchar *text = gst_sdp_message_as_text(offer->sdp);
    const std::string sdp
        = rc::gateway::withLocalCandidates(text, rc::localIceCandidates(v.webrtc));
    g_free(text);
    gst_webrtc_session_description_free(offer);

    std::string answer;
    v.status = rc::test::sendSdpRequest(session, "POST", o.url, o.token, sdp, answer, v.location);
    std::printf("viewer %d status %u\nviewer %d location %s\n", v.index, v.status, v.index,
        v.location.c_str());
    std::fflush(stdout);
    if (v.status != 201) {
        v.error = "refused: " + answer.substr(0, 300);
        return false;
    }
    GstSDPMessage *message = nullptr;
    gst_sdp_message_new_from_text(answer.c_str(), &message);
    if (!message) {
        v.error = "unparsable answer";
        return false;
    }
    GstWebRTCSessionDescription *remote
        = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, message);
    GstStructure *r = rc::test::callWebrtc(v.webrtc, "set-remote-description", remote);
    gst_webrtc_session_description_free(remote);
    if (r && gst_structure_has_field(r, "error")) {
        v.error = "the answer was refused";
        gst_structure_free(r);
        return false;
    }
    if (r)
        gst_structure_free(r);
    return true;
}

std::string json(const std::string &s)
{
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (static_cast<unsigned char>(c) >= 0x20)
            out += c;
    }
    return out + "\"";
}

std::string list(const std::vector<guint64> &values)
{
    std::string out = "[";
    for (size_t i = 0; i < values.size(); ++i)
        out += (i ? "," : "") + std::to_string(values[i]);
    return out + "]";
}

} // namespace

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    const Options o = parse(argc, argv);
    if (o.url.empty() || o.viewers < 1 || o.viewers > 100) {
        std::fprintf(stderr,
            "usage: whep-viewer --url URL [--token T] [--viewers N] [--seconds S] "
            "[--pli-ms MS]\n");
        return 64;
    }
    for (const char *f : { "webrtcbin", "rtph264depay", "fakesink", "nicesrc" })
        if (!gst_element_factory_find(f)) {
            std::fprintf(stderr, "skip: GStreamer element %s is missing\n", f);
            return 77;
        }
    SoupSession *session = soup_session_new();
    std::vector<std::unique_ptr<Viewer>> viewers;
    int rc = 0;
    for (int i = 0; i < o.viewers; ++i) {
        viewers.push_back(std::make_unique<Viewer>());
        Viewer &v = *viewers.back();
        v.index = i;
        if (!connect(v, session, o)) {
            std::fprintf(stderr, "viewer %d: %s\n", i, v.error.c_str());
            rc = 2;
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto nextPli = t0;
    for (int second = 1; second <= static_cast<int>(o.seconds + 0.5); ++second) {
        const auto at = t0 + std::chrono::seconds(second);
        while (std::chrono::steady_clock::now() < at) {
            if (o.pliMs > 0 && std::chrono::steady_clock::now() >= nextPli) {
                nextPli += std::chrono::milliseconds(o.pliMs);
                for (auto &v : viewers)
                    if (GstPad *pad = v->videoSink.load())
                        gst_pad_push_event(pad,
                            gst_video_event_new_upstream_force_key_unit(
                                GST_CLOCK_TIME_NONE, TRUE, 0));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::string line = "{\"sample\":" + std::to_string(second) + ",\"frames\":[";
        for (size_t i = 0; i < viewers.size(); ++i) {
            Viewer &v = *viewers[i];
            v.samples.push_back(v.frames.load());
            v.keySamples.push_back(v.keyframes.load());
            line += (i ? "," : "") + std::to_string(v.samples.back());
        }
        std::printf("%s]}\n", line.c_str());
        std::fflush(stdout);
    }
    std::string report = "{\"viewers\":[";
    for (size_t i = 0; i < viewers.size(); ++i) {
        Viewer &v = *viewers[i];
        guint deleted = 0;
        if (v.status == 201) {
            std::string ignored, none;
            deleted = rc::test::sendSdpRequest(session, "DELETE",
                rc::test::resolveLocation(o.url, v.location), o.token, "", ignored, none);
            if (deleted != 200 && deleted != 204)
                rc = rc ? rc : 4;
        }
        report += std::string(i ? "," : "") + "{\"index\":" + std::to_string(i)
            + ",\"status\":" + std::to_string(v.status) + ",\"location\":" + json(v.location)
            + ",\"error\":" + json(v.error) + ",\"frames\":" + list(v.samples) + ",\"keyframes\":"
            + list(v.keySamples) + ",\"bytes\":" + std::to_string(v.bytes.load()) + ",\"audio\":"
            + std::to_string(v.audio.load()) + ",\"deleted\":" + std::to_string(deleted) + "}";
    }
    std::printf("%s]}\n", report.c_str());
    std::fflush(stdout);
    viewers.clear();
    g_object_unref(session);
    return rc;
}
