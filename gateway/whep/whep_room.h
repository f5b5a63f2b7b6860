// A room's WHEP live view: the room composite encoded once (H.264 constrained baseline +
// Opus, payloaded once) into tees, and one WhepViewer (webrtcbin) per viewer on those tees.
//
// Owned by the RoomSession; thread-bound to the gateway's main context. The encoder bin joins
// the room's composite (RoomMixer) when the first viewer arrives and leaves it when the last
// one goes; the composite itself is held through Host, so it stops when nothing else uses it.
//
// clang-format off
//   RoomMixer video tee ─► [bin "whep"] queue ► x264enc (zerolatency) ► caps CB ► rtph264pay ► tee ─► viewers
//   RoomMixer audio tee ─►              queue ► audioconvert ► audioresample ► opusenc ► rtpopuspay ► tee ─► viewers
// clang-format on
#pragma once

#include "common/base/gptr.h"
#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/gst/gst_ptr.h"
#include "gateway/whep/whep_viewer.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rc::gateway {

class RoomMixer;

class WhepRoom
{
public:
    // What the live view needs of its room; called on the main context.
    struct Host
    {
        // The room's composite, started if needed (every participant in it); nullptr with error.
        std::function<RoomMixer *(std::string &error)> acquireComposite;
        // The live view no longer needs the composite.
        std::function<void()> releaseComposite;
    };
    struct Settings
    {
        std::string room;
        std::vector<std::string> iceAddresses;
        int videoBitrateKbps = 2500;
        int fps = 30; // of the composite: keyframe interval is 2 s
    };
    // The outcome of a POST: a session id and the answer, or an HTTP status and message.
    struct Answer
    {
        bool ok = false;
        std::string sessionId;
        std::string sdp;
        unsigned status = 0; // when !ok: 400 (bad offer), 503 (cannot serve now)
        std::string code, message;
    };
    using AnswerDone = std::function<void(Answer)>;

    WhepRoom(GMainContext *context, Settings settings, Host host);
    ~WhepRoom(); // stop()
    WhepRoom(const WhepRoom &) = delete;
    WhepRoom &operator=(const WhepRoom &) = delete;

    // A viewer's offer: starts the encoder for the first one; done is called once (maybe
    // before this returns).
    void addViewer(const std::string &offerSdp, AnswerDone done);
    // Ends a viewer (DELETE); false for an unknown id.
    bool removeViewer(const std::string &sessionId);
    size_t viewerCount() const noexcept { return viewers_.size(); }
    bool encoding() const noexcept { return bin_ != nullptr; }
    // The mixer reported an error inside our bin: every viewer goes, the encoder stops.
    bool ownsBin(GstElement *bin) const noexcept { return bin && bin == bin_.get(); }
    void onBinError(const std::string &message);
    // Every viewer goes, the encoder leaves the composite (room closing).
    void stop();
    // A viewer joined or asked for a keyframe (its PLI/FIR): the encoder makes one, at most one
    // a second for all the viewers; a request inside that second is answered at its end.
    void requestKeyframe();

private:
    bool startEncoder(std::string &error);
    void stopEncoder(const char *why);
    void dropViewer(const std::string &id, const std::string &why);
    void forceKeyframe();

    GMainContext *context_;
    Settings settings_;
    Host host_;
    RoomMixer *mixer_ = nullptr; // borrowed while encoding (held through Host)
    GPtr<GstElement> bin_;
    GPtr<GstElement> encoder_, videoTee_, audioTee_;
    std::map<std::string, std::unique_ptr<WhepViewer>> viewers_;
    unsigned long long serial_ = 0;
    // The keyframe limiter (requestKeyframe).
    std::chrono::steady_clock::time_point lastKeyframe_ {};
    GPtr<GSource> keyframeTimer_;
    unsigned long long keyframeRequests_ = 0;
    rc::log::Logger log_;
    WeakSelf<WhepRoom> self_ { this }; // last
};

} // namespace rc::gateway
