// One receive-only participant in its own GstPipeline: its PeerConnection (webrtcbin,
// negotiation, trickle ICE), each new pad into a StreamChain feeding the participant's outputs
// (and room composites), outputs attached and detached at run time, network outputs that fail
// alone, the health watchdog (gaps, ICE restarts on the same webrtcbin), and finishing.
//
// Owned by its RoomSession; thread-bound to the gateway's main context. Callbacks from
// GStreamer threads reach it only through its PeerConnection's posts or through posts holding
// its weak reference (self_). A failure stays inside this participant's pipeline.
#pragma once

#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/gst/gst_ptr.h"
#include "common/protocol/room_protocol.h"
#include "gateway/composite/mix_feed.h"
#include "gateway/media/stream_chain.h"
#include "gateway/output/participant_output.h"
#include "gateway/participant/participant_health.h"
#include "gateway/participant/peer_connection.h"
#include "gateway/participant/sdp_tuning.h"
#include "gateway/participant/whip_offer.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

class PeerReceiver
{
public:
    struct Settings
    {
        std::vector<std::string> iceLocalAddresses;
        std::string stunServer, turnServer;
        bool relayOnly = false; // only relayed ICE candidates (through turnServer)
        std::vector<std::string> videoCodecs, audioCodecs; // offered, in preference order
        BitrateHints bitrate;
        std::chrono::milliseconds finalizeTimeout { 5000 };
        // No media for this long: a gap in the participant's media begins (dated from its last
        // media); the sender paused if ICE is connected, else the network is in trouble and
        // ICE is restarted. A browser sends audio every 20 ms, video frames even when its
        // camera is muted.
        std::chrono::milliseconds mediaTimeout { 5000 };
        // No media this long after the first offer (no answer, ICE never connects): failed.
        std::chrono::milliseconds setupTimeout { 20000 };
        // Neither media nor an ICE connection this long: the participant is gone (failed);
        // until then ICE restarts are tried with backoff (--participant-grace).
        std::chrono::milliseconds participantGrace { 600000 };
        // The peer offers (a WHIP publisher, acceptOffer()): no offer of ours, no ICE restarts
        // (only the publisher can make a new offer), and ICE failing is the end.
        bool answerer = false;
    };

    struct Callbacks
    {
        std::function<void(const std::string &sdp)> sendOffer;
        // Answerer: our answer, with every local candidate in it.
        std::function<void(const std::string &sdp)> sendAnswer;
        std::function<void(const protocol::Candidate &candidate)> sendCandidate;
        // The first buffer reached an output.
        std::function<void(ParticipantOutput &output, std::chrono::system_clock::time_point at)>
            outputStarted;
        // An output is closed (after the pipeline went to NULL).
        std::function<void(ParticipantOutput &output)> outputFinished;
        // The peer is gone or broken (a first negotiation that never brought media, neither
        // media nor a connection for the whole grace, a pipeline error, or media stopped on a
        // detached receiver). Reported once; the owner decides when to finish().
        std::function<void(const std::string &reason)> failed;
        // A gap in the participant's media began (started) or ended at `at`: cause Network (ICE
        // not connected) or SenderPaused (ICE connected, no media). An end always follows its
        // start, also when the receiver finishes during the gap.
        std::function<void(
            ParticipantHealth::Gap cause, bool started, std::chrono::system_clock::time_point at)>
            gap;
        // finish() completed: every output is closed. Posted, so the owner may
        // destroy the receiver from it.
        std::function<void()> finished;
        // An element inside an output's bin posted an ERROR (server refused,
        // connection dropped, disk full): that instance alone was detached and
        // is destroyed when this returns; the participant and its other
        // outputs keep going. The owner may add a fresh instance (retry).
        std::function<void(ParticipantOutput &output, const std::string &message)> outputError;
        // The gateway asked this peer for a keyframe (PLI/FIR), for metrics.
        std::function<void()> keyframeRequested;
    };

    // Numbers from webrtcbin's get-stats (polled every 2 s).
    using Stats = PeerStats;

    PeerReceiver(GMainContext *context, std::string peerId, Settings settings,
        std::vector<std::unique_ptr<ParticipantOutput>> outputs, Callbacks callbacks);
    ~PeerReceiver();
    PeerReceiver(const PeerReceiver &) = delete;
    PeerReceiver &operator=(const PeerReceiver &) = delete;

    // What a participant's pipeline makes in code: webrtcbin and what it loads at run time (ICE,
    // DTLS, SRTP, rtpbin), then the StreamLinker's elements.
    static RequiredElements requiredElements();

    // Builds the pipeline, restricts ICE, adds the transceivers, goes to
    // PLAYING and creates the offer (sent through sendOffer); an answerer waits for acceptOffer().
    bool start(std::string &error);
    // Answerer, after start(): the publisher's offer, fitted to what we take (whip_offer.h); the
    // answer comes through sendAnswer, a failure through failed.
    void acceptOffer(const WhipOffer &offer);
    void handleAnswer(const std::string &sdp);
    void handleCandidate(const std::optional<protocol::Candidate> &candidate);
    // EOS into every output, wait for them (bounded by finalizeTimeout), then
    // NULL and report. Idempotent.
    void finish(const std::string &reason);

    // The peer id no longer names this receiver's peer (a rejoin, a new member under the id):
    // no more ICE restarts (offers would reach someone else), and the receiver fails as soon
    // as its media stops.
    void detach() noexcept { attached_ = false; }
    // Our signaling session ended: an offer from this webrtcbin would now come from another
    // member id, which a client answers on a new peer connection, and a restart would change
    // the credentials that the client's connection can still come back on by itself. So no
    // more ICE restarts; everything else (gaps, the grace) goes on.
    void stopIceRestarts() noexcept { iceRestarts_ = false; }

    // Replaces the peer connection by a new one in the same pipeline (a new webrtcbin and a new
    // offer to the same peer id): the stream chains, outputs, files and gap fillers stay, the
    // new connection's pads feed the existing chains of the same codec, and the media between
    // the two is a network gap. For a peer whose client closed its connection to us or that
    // stayed away too long. False (nothing done) when finishing or never started.
    bool reconnect(const std::string &reason);
    // Whether reconnect() makes sense after a failure: media came once, and nothing in the
    // pipeline broke (an error or a codec that changed needs a new receiver).
    bool canReconnect() const noexcept { return mediaSeen() && !broken_ && !finishing_; }

    const std::string &peerId() const noexcept { return peerId_; }
    bool finishing() const noexcept { return finishing_; }
    bool isFinished() const noexcept { return finished_; }
    // Media arrived within the last mediaTimeout.
    bool mediaFlowing() const;
    // Media arrived at least once.
    bool mediaSeen() const noexcept { return lastMedia().has_value(); }
    // Time since the last media buffer (since start() if none came yet).
    std::chrono::milliseconds mediaIdle() const;
    const std::vector<std::unique_ptr<ParticipantOutput>> &outputs() const noexcept
    {
        return outputs_;
    }

    // Attaches output at run time (or before start): to every running stream
    // whose codec it takes, through a new tee branch, and to every later one;
    // asks for a keyframe so that it starts at once. False with error (the
    // output is dropped) when the receiver is finishing or linking fails.
    bool addOutput(std::unique_ptr<ParticipantOutput> output, std::string &error);
    // EOS into the instances of outputId only, wait for their sinks (bounded
    // by finalizeTimeout), report each through outputFinished, detach and
    // destroy them; then done() (also when there were none). The
    // participant's other outputs keep running.
    void finishOutput(const std::string &outputId, std::function<void()> done);
    // Feeds this participant's streams (running and later ones) to a room
    // composite through decode branches.
    void addMixFeed(std::shared_ptr<MixFeed> feed);
    // Takes this participant out of a composite that went away: its decode
    // branches are detached and dropped (no decoding for nobody).
    void removeMixFeed(const MixFeed *feed);
    // The codecs the answer says the peer sends (video first), e.g. {"VP8","OPUS"}.
    std::vector<std::string> negotiatedCodecs() const;
    const Stats &stats() const noexcept { return connection_->stats(); }
    // For the API: "connecting" (never connected yet), "connected", "reconnecting" (the
    // network is away: ICE restarts), "paused" (connected, the sender sends nothing) or
    // "ending"; and why, when something is wrong (empty otherwise).
    std::string connectionState() const;
    std::string connectionReason() const;

private:
    struct Activity;
    struct Probes;
    static ParticipantHealth::Limits healthLimits(const Settings &settings) noexcept
    {
        ParticipantHealth::Limits limits;
        limits.mediaTimeout = settings.mediaTimeout;
        limits.setupTimeout = settings.setupTimeout;
        limits.grace = settings.participantGrace;
        return limits;
    }

    PeerConnection::Callbacks connectionCallbacks();
    PeerConnection::Settings connectionSettings() const;
    bool linkToExistingChain(GstPad *pad, MediaKind kind, const std::string &codec);
    void onNewPad(GstPad *pad, GstCaps *caps);
    void linkPad(GstPad *pad, GstCaps *caps);
    void onIceState(GstWebRTCICEConnectionState state);
    static gboolean busMessage(GstBus *bus, GstMessage *message, gpointer self) noexcept;
    bool onBusMessage(GstMessage *message);
    bool watchdog();
    void reportGaps(const std::vector<ParticipantHealth::GapChange> &changes);
    void watchLink();
    void forgetLink() noexcept;
    std::optional<ParticipantHealth::Time> lastMedia() const noexcept;
    void reportFailure(const std::string &reason);
    void checkFinalized();
    void completeFinish(bool timedOut);
    void watchOutput(ParticipantOutput &output);
    bool attachOutput(StreamChain &chain, ParticipantOutput &output, std::string &error);
    void attachFeed(StreamChain &chain, MixFeed &feed);
    void detachOutput(ParticipantOutput &output);
    ParticipantOutput *outputContaining(GstObject *object) const;
    void checkOutputFinishes(bool force);
    void requestKeyframe(const StreamChain &chain);

    GMainContext *context_; // borrowed: the gateway's, outlives every receiver
    std::string peerId_;
    gint64 iceConnectedUs_ = 0; // first ICE connected (g_get_monotonic_time), for the log
    Settings settings_;
    Callbacks callbacks_;
    // "gateway: ", "gateway: ID: " and "gateway: participant ID: " lines.
    rc::log::Logger log_, peerLog_, participantLog_;
    std::vector<std::unique_ptr<ParticipantOutput>> outputs_;
    std::shared_ptr<Activity> activity_;
    ParticipantHealth health_;

    GPtr<GstElement> pipeline_;
    // Declared after the pipeline: lets go of webrtcbin and its signals first.
    std::unique_ptr<PeerConnection> connection_;
    GPtr<GSource> busWatch_;
    GPtr<GSource> watchdogTimer_;
    GPtr<GSource> finalizeTimer_;

    std::vector<std::unique_ptr<StreamChain>> chains_;
    std::vector<std::shared_ptr<MixFeed>> mixFeeds_;
    struct DecodeBranch
    {
        const MixFeed *feed; // borrowed: identifies the composite
        GPtr<GstElement> bin; // owned by pipeline_ too
        GPtr<GstPad> src; // the tee branch's queue src pad feeding it
    };
    std::vector<DecodeBranch> decodeBranches_;
    std::map<MediaKind, std::string> sending_; // from the answer
    struct OutputFinish
    {
        std::string outputId;
        std::function<void()> done;
        gint64 deadlineUs = 0;
    };
    std::vector<OutputFinish> outputFinishes_;
    GPtr<GSource> outputFinishTimer_;
    GPtr<GSource> statsTimer_;
    bool attached_ = true;
    bool iceRestarts_ = true; // see stopIceRestarts()
    bool linkWatched_ = false; // a probe counts packets out of webrtcbin's nicesrc
    bool failureReported_ = false;
    bool reconnected_ = false; // the connection is a replacement: its pads feed existing chains
    bool broken_ = false; // a pipeline error or a changed codec: no reconnect() can fix it
    bool finishing_ = false;
    bool finished_ = false;
    rc::WeakSelf<PeerReceiver> self_ { this }; // last: cut first
};

} // namespace rc::gateway
