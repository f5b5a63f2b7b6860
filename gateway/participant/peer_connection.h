// One participant's WebRTC session: the receive-only webrtcbin with its settings, our offer, the
// answer, trickle ICE both ways, ICE restarts on the same webrtcbin, ICE and connection states,
// new receive pads and get-stats.
// What becomes of the pads (chains, outputs) and of a failure is its owner's business.
//
// Owned by its PeerReceiver, which keeps the pipeline the webrtcbin lives in; thread-bound to
// the gateway's main context, and so are its callbacks. webrtcbin's signals, promise replies
// and pad probes run on GStreamer threads: they copy what they need and post to the main
// context with a weak reference (self_), never touching the connection there.
#pragma once

#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/gst/gst_ptr.h"
#include "common/protocol/room_protocol.h"
#include "gateway/participant/offer_builder.h"
#include "gateway/participant/sdp_tuning.h"

#include <gst/webrtc/webrtc.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rc::gateway {

// Numbers from webrtcbin's get-stats, summed over the inbound RTP streams.
struct PeerStats
{
    uint64_t packetsReceived = 0;
    uint64_t packetsLost = 0;
    uint64_t bytesReceived = 0;
    uint64_t receiveBitrateBps = 0; // over the last poll interval
};

class PeerConnection
{
public:
    struct Settings
    {
        OfferBuilder::Config offer;
        BitrateHints bitrate;
        // The peer offers (a WHIP publisher): no transceivers of ours (webrtcbin makes them from
        // the offer), acceptOffer() instead of createOffer(), no ICE restarts.
        bool answerer = false;
    };

    struct Callbacks
    {
        // A new receive pad, held (blocked) until this returns: link it here, so that its first
        // buffer (a keyframe, with luck) reaches what it is linked to. Also while closing: an
        // unlinked webrtcbin pad would fail the session with not-linked.
        std::function<void(GstPad *pad, GstCaps *caps)> newPad;
        // Our offer, with bitrate hints, once webrtcbin made it: send it to the peer.
        std::function<void(const std::string &sdp)> localOffer;
        // Answerer: our answer with every local candidate, once ICE gathering completed.
        std::function<void(const std::string &sdp)> localAnswer;
        // One of our ICE candidates: send it to the peer.
        std::function<void(const protocol::Candidate &candidate)> localCandidate;
        std::function<void(GstWebRTCICEConnectionState state)> iceState;
        std::function<void(GstWebRTCPeerConnectionState state)> connectionState;
        // The first negotiation failed (no offer, our offer or the answer refused). A failed
        // ICE restart is only logged: its owner asks again later.
        std::function<void(const std::string &reason)> failed;
        // A get-stats reply was read into stats().
        std::function<void(const PeerStats &stats)> stats;
    };

    PeerConnection(
        GMainContext *context, std::string peerId, Settings settings, Callbacks callbacks);
    ~PeerConnection();
    PeerConnection(const PeerConnection &) = delete;
    PeerConnection &operator=(const PeerConnection &) = delete;

    // Creates the webrtcbin with its settings (ICE, STUN/TURN, transceivers) in pipeline, in
    // NULL state, and connects its signals. False with error.
    bool create(GstBin *pipeline, std::string &error);
    bool created() const noexcept { return webrtc_ != nullptr; }
    // The webrtcbin (borrowed; the pipeline owns it too), nullptr before create().
    GstElement *element() const noexcept { return webrtc_.get(); }
    // Asks webrtcbin for the offer (the pipeline is PLAYING); it arrives through localOffer.
    void createOffer();
    // Answerer: sets the peer's offer (already fitted, whip_offer.h) as the remote description,
    // creates and sets our answer, and reports it through localAnswer once gathering is done (a
    // WHIP answer carries every candidate). A failure goes to failed.
    void acceptOffer(const std::string &sdp);
    // Whether an answer to our latest offer was already taken.
    bool answerReceived() const noexcept { return answerReceived_; }
    // Whether the first answer was set (the session was negotiated once).
    bool negotiated() const noexcept { return negotiated_; }
    // Sets the peer's answer as the remote description; candidates queued until then follow.
    // False (logged) when it cannot be parsed.
    bool setAnswer(const std::string &sdp);
    // Restarts ICE on this same webrtcbin (same DTLS, same pads, same outputs): new local
    // credentials in libnice, a new offer carrying them (through localOffer), our candidates
    // again (through localCandidate, webrtcbin does not gather twice); the peer's answer and
    // its new candidates then go in as usual. The spec's "ICE restart is a new offer on the
    // same pair of peers". Asking again before the answer came makes a fresh offer. Only
    // after the first answer was set; false (logged) otherwise or when closing.
    bool restartIce();
    unsigned iceRestarts() const noexcept { return iceRestarts_; }
    // A remote candidate; queued until the remote description is set.
    void addRemoteCandidate(const protocol::Candidate &candidate);
    // Asks webrtcbin for its stats; the reply updates stats() and reports through stats.
    void pollStats();
    const PeerStats &stats() const noexcept { return stats_; }
    // Why the configured TURN server is of no use (no relay candidate once gathering was
    // done), for the log and the API; empty when it is fine or none is configured.
    const std::string &turnProblem() const noexcept { return turnProblem_; }
    // The participant is leaving: no more offers, candidates or stats (pads are still reported).
    void close() noexcept { closing_ = true; }
    // Disconnects from webrtcbin's signals (after the pipeline went to NULL).
    void disconnect() noexcept;

private:
    struct Trampolines;
    void onOfferCreated(std::string sdp);
    void resendLocalCandidates();
    void onRemoteDescriptionSet(const std::string &error);
    void onLocalCandidate(unsigned mline, const std::string &candidate);
    void onGatheringDone();
    void onOfferSet(const std::string &error);
    void onAnswerCreated(std::string sdp);
    void deliverAnswer();
    void onStats(const GstStructure *reply);
    void addCandidateNow(unsigned mline, const std::string &candidate);
    void fail(const std::string &reason);

    GMainContext *context_; // borrowed: the gateway's, outlives every connection
    std::string peerId_;
    Settings settings_;
    Callbacks callbacks_;
    rc::log::Logger log_ { "gateway" };
    GPtr<GstElement> webrtc_; // owned by the pipeline too
    // Declared after the element they are connected to: disconnected first.
    SignalConnection padAdded_, iceCandidate_, iceState_, connectionState_, gatheringState_;
    std::string localSdp_;
    bool answerReceived_ = false;
    bool negotiated_ = false;
    bool restarting_ = false; // the offer being made is an ICE restart
    unsigned iceRestarts_ = 0;
    bool remoteSet_ = false;
    std::vector<std::pair<unsigned, std::string>> pendingCandidates_;
    PeerStats stats_;
    unsigned relayCandidates_ = 0; // of ours, gathered through the TURN server
    std::string turnProblem_;
    gint64 statsAtUs_ = 0;
    bool closing_ = false;
    bool gathered_ = false; // ICE gathering completed
    bool answerPending_ = false; // answerer: our answer is set, waiting for gathering
    GPtr<GSource> answerTimer_; // answerer: gathering that never says it completed
    rc::WeakSelf<PeerConnection> self_ { this };
};

} // namespace rc::gateway
