// The bare receiver's session with one sender: a receive-only webrtcbin whose streams end in
// depayloaders and fakesinks.
#pragma once

#include "common/base/weak_self.h"
#include "common/gst/gst_ptr.h"
#include "common/protocol/room_protocol.h"
#include "testpeer/candidate_exchange.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::bench {

// Owned by the BareReceiver (one per remote peer id); thread-bound to its
// GMainContext. As the spec's hidden member it offers receive-only VP8 and
// Opus. webrtcbin callbacks post back through a weak reference; the time of
// ICE connection and of the first video keyframe out of the depayloader are
// taken on the threads that see them, so the delay between them is exact.
class ReceiveSession
{
public:
    struct Environment
    {
        GMainContext *context = nullptr; // borrowed
        GstBin *pipeline = nullptr; // borrowed
        std::vector<std::string> iceAddresses;
    };
    using SendFn = std::function<bool(const std::string &json)>;
    using FailFn = std::function<void(const std::string &peerId, const std::string &why)>;
    using ConnectedFn = std::function<void(const std::string &peerId)>;

    ReceiveSession(const Environment &env, std::string peerId, SendFn send, FailFn fail,
        ConnectedFn connected);
    ~ReceiveSession();
    ReceiveSession(const ReceiveSession &) = delete;
    ReceiveSession &operator=(const ReceiveSession &) = delete;

    bool start();
    void handleAnswer(const std::string &sdp);
    void handleCandidate(const std::optional<protocol::Candidate> &candidate);
    bool owns(GstObject *element) const noexcept;
    bool connected() const noexcept { return connected_; }

    // Shared with pad probes on streaming threads.
    struct Timing
    {
        std::atomic<gint64> iceConnectedUs { 0 };
        std::atomic<gint64> firstKeyframeUs { 0 };
        std::atomic<uint64_t> videoFrames { 0 };
    };

private:
    struct Trampolines;
    void onNegotiationNeeded();
    void onOffer(std::shared_ptr<GstWebRTCSessionDescription> desc, const std::string &error);
    void onRemoteSet(const std::string &error);
    void onLocalCandidate(unsigned mline, const std::string &candidate);
    void onIceConnected();
    void onPadAdded(GstPad *pad, gulong blockProbe, bool video);
    void onFirstKeyframe();
    void fail(const std::string &why);

    Environment env_;
    std::string peerId_;
    SendFn send_;
    FailFn fail_;
    ConnectedFn connectedFn_;
    GPtr<GstElement> binRef_;
    GstElement *bin_ = nullptr;
    GstElement *webrtc_ = nullptr; // borrowed from bin_
    std::vector<SignalConnection> handlers_;
    GPtr<GstSDPMessage> remoteSdp_;
    bool offered_ = false;
    bool connected_ = false;
    testpeer::CandidateExchange candidates_; // shared with the test peer's sessions
    std::shared_ptr<Timing> timing_;
    WeakSelf<ReceiveSession> self_ { this }; // last: cut first
};

} // namespace rc::bench
