// One WebRTC session between a participant and one remote peer: its webrtcbin, send branches and
// receive sinks.
#pragma once

#include "common/base/weak_self.h"
#include "common/gst/gst_ptr.h"
#include "common/protocol/room_protocol.h"
#include "testpeer/candidate_exchange.h"
#include "testpeer/codec_plan.h"
#include "testpeer/receive_counter.h"
#include "testpeer/track_source.h"

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rc::testpeer {

// Owned by a Participant (one per remote peer id); thread-bound to the
// participant's GMainContext. webrtcbin's callbacks (pad-added,
// on-ice-candidate, state notifications, promise replies) run on GStreamer
// threads: they copy what they need and post back here through a weak
// reference, so a reply that arrives after teardown is dropped.
//
// Everything of the session lives in one bin in the shared pipeline, fed by
// request pads on the participant's tees; destruction releases those pads and
// sets the bin to NULL, on the main context.
class PeerSession
{
public:
    struct Environment
    {
        GMainContext *context = nullptr; // borrowed, outlives the session
        GstBin *pipeline = nullptr; // borrowed
        const TrackSource *tracks = nullptr; // borrowed
        std::vector<std::string> iceAddresses;
        std::string logPrefix; // "" for a lone test peer, "sender-3: " in the load generator
    };
    using SendFn = std::function<bool(const std::string &json)>;
    using FailFn = std::function<void(const std::string &peerId, const std::string &why)>;
    using ConnectedFn = std::function<void(const std::string &peerId)>;

    PeerSession(const Environment &env, std::string peerId, SendFn send, FailFn fail,
        ConnectedFn connected = {});
    ~PeerSession();
    PeerSession(const PeerSession &) = delete;
    PeerSession &operator=(const PeerSession &) = delete;

    // Mesh: sends an offer with our tracks and a receive-only video m-line.
    bool startOffer();
    void handleOffer(const std::string &sdp);
    void handleAnswer(const std::string &sdp);
    void handleCandidate(const std::optional<protocol::Candidate> &candidate);

    // True if element is this session's bin or inside it.
    bool owns(GstObject *element) const noexcept;
    const std::string &peerId() const noexcept { return peerId_; }
    bool connected() const noexcept { return connected_; }
    bool awaitingAnswer() const noexcept { return awaitingAnswer_; }
    uint64_t videoFramesReceived() const noexcept;

private:
    struct Trampolines;
    struct Branch
    {
        GPtr<GstPad> teePad; // request pad on the shared tee
        GstElement *tee = nullptr;
    };
    using Description = std::shared_ptr<GstWebRTCSessionDescription>;

    bool build();
    bool attachTrack(MediaKind kind, GstPad *webrtcSink, int pt,
        const std::string &h264ProfileLevelId = kH264ProfileLevelId);
    GstPad *requestSendPad(GstCaps *caps, GstWebRTCRTPTransceiverDirection direction);
    void onNegotiationNeeded();
    void applyAnswerPlan();
    void setRemote(GstWebRTCSDPType type);
    void onRemoteSet(bool ok, const std::string &error);
    void onDescriptionCreated(Description desc, const std::string &error);
    void onLocalCandidate(unsigned mline, const std::string &candidate);
    void onIceConnectionState();
    void onIceGatheringState();
    void onPadAdded(GPtr<GstPad> pad, gulong blockProbe, bool video);
    void requestKeyframe();
    void fail(const std::string &why);

    Environment env_;
    std::string peerId_;
    SendFn send_;
    FailFn fail_;
    ConnectedFn connectedFn_;
    GstElement *bin_ = nullptr; // owned through binRef_; a child of the pipeline
    GPtr<GstElement> binRef_;
    GstElement *webrtc_ = nullptr; // borrowed from bin_
    std::unique_ptr<ReceiveCounter> receiver_;
    std::vector<Branch> branches_;
    std::vector<GPtr<GstPad>> videoPaySinks_; // for keyframe requests
    std::vector<GPtr<GstPad>> webrtcSinks_; // webrtcbin request pads
    std::vector<SignalConnection> handlers_;
    std::vector<LinePlan> plan_;
    std::set<unsigned> configuredLines_;
    GPtr<GstSDPMessage> remoteSdp_;
    GPtr<GstSDPMessage> localSdp_;
    bool remoteIsOffer_ = false;
    bool connected_ = false;
    bool awaitingAnswer_ = false;
    bool offerPending_ = false;
    CandidateExchange candidates_; // the peer's held until the remote description is set; ours out
    WeakSelf<PeerSession> self_ { this }; // last: cut first
};

} // namespace rc::testpeer
