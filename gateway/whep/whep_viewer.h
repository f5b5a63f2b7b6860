// One WHEP viewer: a webrtcbin inside the room's WHEP bin fed from the shared RTP tees, the
// answer to its offer (every candidate included: no trickle), and its connection state.
//
// Owned by WhepRoom; thread-bound to the gateway's main context. webrtcbin's signals and
// promises arrive on GStreamer threads: they copy what they need and post to the main context
// holding only a weak reference (WeakSelf).
//
// clang-format off
//   video tee ─► queue (leaky) ─[pt rewrite]─► webrtcbin sink (sendonly, the offer's H.264 pt)
//   audio tee ─► queue (leaky) ─[pt rewrite]─► webrtcbin sink (sendonly, the offer's Opus pt)
// clang-format on
//
// The room encodes and payloads once; each browser chose its own payload types in its offer,
// so the viewer's branch rewrites the payload type (buffers and caps) on its way in.
#pragma once

#include "common/base/gptr.h"
#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/gst/gst_ptr.h"
#include "gateway/whep/whep_offer.h"

#include <functional>
#include <string>
#include <vector>

namespace rc::gateway {

class WhepViewer
{
public:
    struct Settings
    {
        std::string id; // the session id in the Location
        std::string room;
        std::vector<std::string> iceAddresses; // host candidates; empty: none restricted
    };
    struct Callbacks
    {
        // The answer SDP (all candidates), or an error message; once.
        std::function<void(bool ok, const std::string &sdpOrError)> answered;
        // ICE connected: the encoder should send a keyframe.
        std::function<void()> connected;
        // The connection failed or closed after the answer: remove this viewer.
        std::function<void(const std::string &why)> ended;
    };

    WhepViewer(GMainContext *context, Settings settings, Callbacks callbacks);
    ~WhepViewer(); // detach()
    WhepViewer(const WhepViewer &) = delete;
    WhepViewer &operator=(const WhepViewer &) = delete;

    // Builds the branch in bin (PLAYING), linked to the tees (either may be null when the offer
    // has no such m-line), then answers offerSdp. False with error when an element is missing.
    bool start(GstBin *bin, GstElement *videoTee, GstElement *audioTee, const WhepOffer &offer,
        const std::string &offerSdp, std::string &error);
    // Unlinks from the tees, stops and removes its elements. Idempotent.
    void detach();
    const std::string &id() const noexcept { return settings_.id; }

private:
    struct Trampolines;
    struct Branch
    {
        GPtr<GstElement> queue;
        GPtr<GstPad> teePad;
        GPtr<GstElement> tee;
    };

    bool addBranch(
        GstElement *tee, const char *media, int pt, const std::string &fmtp, std::string &error);
    // Links every branch (already playing) to its tee.
    bool linkTees(std::string &error);
    void onRemoteSet(const std::string &error);
    void onAnswerCreated(GPtr<GstWebRTCSessionDescription> answer, const std::string &error);
    void onGatheringComplete();
    void onConnectionState(int state);
    void finishAnswer(bool ok, const std::string &sdpOrError);

    GMainContext *context_;
    Settings settings_;
    Callbacks callbacks_;
    GPtr<GstBin> bin_;
    GPtr<GstElement> webrtc_;
    std::vector<Branch> branches_;
    std::vector<SignalConnection> signals_;
    GPtr<GSource> answerTimeout_;
    bool answered_ = false, localSet_ = false, connected_ = false;
    rc::log::Logger log_;
    WeakSelf<WhepViewer> self_ { this }; // last
};

} // namespace rc::gateway
