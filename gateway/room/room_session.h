// One room: the gateway's hidden membership, a PeerReceiver per visible participant, the session's
// files and manifest.
//
// Owned by the Gateway; thread-bound to the gateway's main context (every
// callback it gets from SignalingClient and PeerReceiver runs there).
//
// Membership across signaling reconnects (peer ids are the room server's and
// are new after it restarts, and may then name someone else):
//  - a receiver is "attached" to the peer id it was offered to; answers,
//    candidates and peer-left for that id go to it;
//  - on every welcome, an attached receiver whose id is listed with the same
//    name stays attached and is not offered to again (our connection
//    dropped, not theirs), unless a second later its media has stopped (that
//    client dropped us during the outage): then it is finalized and offered
//    to anew at once; any other is
//    detached (its presence ends in the manifest) but keeps recording while
//    its media flows, and is finalized when its media stops or ICE fails;
//  - every listed peer without an attached receiver, and every later
//    peer-joined, gets a new receiver and an offer;
//  - an attached receiver that fails (ICE failed, no media) is finalized and,
//    while its peer is still in the room, replaced after a capped backoff.
// Those decisions are Membership's (membership.h, a pure reducer with unit
// tests); RoomSession feeds it events and carries out its commands.
//
// Outputs: every template the room starts with (Settings::templates) and
// every startOutput() is one output, id "<template>-<n>" (n counts per
// template in this room). Participant scope: one ParticipantOutput per
// receiver (own file <id>.<ext>, or own stream <url>/<id>), attached to
// running receivers through new tee branches and given to later ones.
// Room scope: one instance in the RoomMixer of its size and rate
// (width/height/framerate params, default 1280x720@30; created when the
// first such output starts, with every receiver as a participant in join
// order; stopped when its last output ends). A network output (a template
// with a url param) that fails is rebuilt alone after 250 ms .. 2 s; the
// receivers and the other outputs never notice. With no output at all the
// participants are still received (to fakesinks), so that outputs can be
// started later.
#pragma once

#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/protocol/room_link.h"
#include "gateway/composite/room_mixer.h"
#include "gateway/participant/peer_receiver.h"
#include "gateway/room/manifest.h"
#include "gateway/room/membership.h"
#include "gateway/room/recording_layout.h"
#include "gateway/templates/pipeline_template.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

// One output of a room, as the control API and webhooks show it. A
// participant-scope output is one template applied to every participant (one
// file or stream each); a room-scope output is one instance fed by the room's
// composite. Plain value.
struct OutputFile
{
    std::string path; // absolute path of a file ("" for a network stream)
    std::string participant; // "" for a room-scope output
    double durationSeconds = 0;
    uint64_t bytes = 0;
};

struct OutputInfo
{
    std::string id; // unique within the room, e.g. "record-mkv-1"
    std::string templateName; // e.g. "rtmp"
    TemplateScope scope = TemplateScope::participant;
    // "starting" (no buffer yet), "running", "retrying" (network output
    // reconnecting), "finishing", "finished", "failed"
    std::string state = "starting";
    std::string url; // redacted URL of a network output (ops::redactUrl), "" if none
    std::vector<OutputFile> files; // so far (while running) or final
    uint64_t bytes = 0; // written or sent so far
    std::optional<std::chrono::system_clock::time_point> startedAt; // first buffer
    std::string failure; // why, when state == "failed"
    unsigned restarts = 0; // reconnects of a network output
    std::string manifestPath; // the room session's manifest.json
};

struct ParticipantInfo
{
    std::string id;
    std::optional<std::string> name;
    std::chrono::system_clock::time_point joinedAt;
    std::vector<std::string> codecs; // negotiated RTP encoding names, e.g. {"VP8", "OPUS"}
    uint64_t receiveBitrateBps = 0; // over the last stats interval
    uint64_t packetsReceived = 0;
    uint64_t packetsLost = 0;
};

class RoomSession
{
public:
    // What happened in the room, for webhooks and metrics; every callback runs
    // on the main context. Unset ones are skipped.
    struct Events
    {
        std::function<void(const ParticipantInfo &)> participantJoined;
        std::function<void(const ParticipantInfo &)> participantLeft;
        std::function<void(const OutputInfo &)> outputStarted; // first buffer written/sent
        std::function<void(const OutputInfo &)> outputFinished; // finalized; files complete
        std::function<void(const OutputInfo &, const std::string &reason)> outputFailed;
        std::function<void(const OutputInfo &)> outputRestarted; // network output reconnected
        std::function<void()> keyframeRequested;
    };

    struct Settings
    {
        std::string room;
        // Makes the room-server connection (the app binds URL and context).
        RoomLinkFactory link;
        std::optional<std::string> token;
        // Outputs started with the room (from --pipeline), in that order, each
        // with its resolved parameter values; both scopes.
        std::vector<std::pair<PipelineTemplate, std::map<std::string, std::string>>> templates;
        std::string recordingsDir;
        std::chrono::system_clock::time_point sessionStart;
        PeerReceiver::Settings receiver;
    };
    // The room server refused us for good (bad token, room full).
    using FatalCallback = std::function<void(const std::string &code, const std::string &message)>;

    RoomSession(GMainContext *context, Settings settings, FatalCallback onFatal);
    ~RoomSession();
    RoomSession(const RoomSession &) = delete;
    RoomSession &operator=(const RoomSession &) = delete;

    // Creates the session folder and manifest, then joins. False with error
    // when the folder cannot be created.
    bool start(std::string &error);
    // Finalizes every participant, leaves the room, ends the manifest; done
    // is called (on the main context) once every file is closed.
    void stop(std::function<void()> done);
    bool idle() const noexcept { return receivers_.empty(); }
    size_t receiverCount() const noexcept { return receivers_.size(); }
    // A new token for the next (re)join.
    void setToken(std::optional<std::string> token);

    const std::string &room() const noexcept { return settings_.room; }
    void setEvents(Events events) { events_ = std::move(events); }
    // Visible participants now in the room.
    std::vector<ParticipantInfo> participants() const;
    // Every output of this session, running ones first, then finished/failed
    // ones (kept so that a client can read the final state).
    std::vector<OutputInfo> outputs() const;
    std::optional<OutputInfo> output(const std::string &id) const;
    // Starts an output of tpl at run time with resolved, validated params.
    // False with error when it cannot start (errorCode "conflict": the same
    // template with the same params already runs; "failed": it could not be
    // built). Participant scope: attached to every current and future
    // participant whose negotiated codecs the template takes.
    bool startOutput(const PipelineTemplate &tpl, const std::map<std::string, std::string> &params,
        OutputInfo &started, std::string &errorCode, std::string &error);
    // EOS into the output, wait for its sinks (bounded by the finalize
    // timeout), then done(final state); nullopt if no such running output.
    void stopOutput(const std::string &id, std::function<void(std::optional<OutputInfo>)> done);

    // For tests and logs: the room composites running now (one per distinct
    // size and rate of the room-scope outputs).
    size_t mixerCount() const noexcept { return mixers_.size(); }
    const RecordingLayout &layout() const noexcept { return layout_; }

private:
    // One output of this room (see OutputInfo). Participant scope: instances
    // live in the receivers (ParticipantOutput::outputId() == id); room
    // scope: one bin in the mixer of its size and rate.
    struct RoomTap; // first buffer and duration of a room output (probe, atomics)
    struct Retry
    {
        unsigned failures = 0;
        gint64 startedUs = 0; // last (re)start, to reset the backoff after a good run
        GPtr<GSource> timer;
    };
    struct Output
    {
        std::string id;
        PipelineTemplate tpl;
        std::map<std::string, std::string> params;
        std::string redactedUrl; // "" if not a network output
        std::string state = "starting";
        std::optional<std::chrono::system_clock::time_point> startedAt;
        std::string failure;
        unsigned restarts = 0;
        std::vector<OutputFile> files; // closed participant instances
        bool stopping = false;
        bool ended = false; // finished or failed
        bool awaitingParticipant
            = false; // room scope: its composite starts with the first participant
        unsigned pending = 0; // receivers still closing it (stopOutput)
        std::vector<std::function<void(std::optional<OutputInfo>)>> waiters;
        std::map<unsigned, Retry> retries; // participant scope, by receiver serial
        // Room scope:
        std::string mixerKey;
        GPtr<GstElement> bin; // in the mixer; nullptr while retrying or after the end
        std::string path; // the file (or HLS playlist) it writes, "" for a stream
        std::string hlsDir; // an HLS output's folder (its size is the output's)
        std::string manifestPath; // path as listed in the manifest ("" until started)
        std::shared_ptr<RoomTap> tap;
        Retry roomRetry;
        GPtr<GSource> stopTimer;
        double finalDuration = 0;
        uint64_t finalBytes = 0;
    };

    bool network(const PipelineTemplate &tpl) const;
    Output &createOutput(
        const PipelineTemplate &tpl, const std::map<std::string, std::string> &params);
    bool startRoomOutput(Output &o, std::string &error);
    void startAwaitingRoomOutputs();
    bool buildRoomInstance(Output &o, std::string &error);
    RoomMixer *ensureMixer(
        const std::map<std::string, std::string> &params, std::string &key, std::string &error);
    void onRoomOutputEos(GstElement *bin);
    void onRoomOutputError(GstElement *bin, const std::string &message);
    void retryRoomOutput(const std::string &id);
    void onRoomOutputStarted(const std::string &id, std::chrono::system_clock::time_point at);
    void finishRoomOutput(Output &o);
    void closeRoomInstance(Output &o);
    void releaseMixerIfUnused(const std::string &key);
    std::unique_ptr<ParticipantOutput> makeParticipantInstance(
        const Output &o, const std::string &peerId, std::string &error);
    void onParticipantOutputError(
        unsigned serial, ParticipantOutput &out, const std::string &message);
    void scheduleRetry(Output &o, Retry &retry, std::function<void()> rebuild);
    void completeOutput(Output &o, const std::string &failure = {});
    Output *findOutput(const std::string &id);
    const Output *findOutput(const std::string &id) const;
    OutputInfo infoOf(const Output &o) const;
    ParticipantInfo participantInfo(const std::string &id) const;
    bool roomOutputsSettled() const;

    // The shell's view of a member, for participantInfo(); Membership decides who is one.
    struct Member
    {
        std::optional<std::string> name;
        std::chrono::system_clock::time_point joinedAt = std::chrono::system_clock::now();
    };
    struct Receiver
    {
        std::unique_ptr<PeerReceiver> receiver;
        std::string peerId;
        bool attached = true; // as Membership last said (participantInfo() reads it)
    };

    // Feed one event into membership_ and carry out the commands it returns, in order.
    void run(MembershipCommands commands);
    void onWelcome(const protocol::Welcome &welcome);
    void recheckAfterRejoin(const std::vector<unsigned> &serials);
    void onMessage(const protocol::ServerMessage &message);
    void onPeerJoined(const protocol::PeerInfo &peer);
    void onPeerLeft(const std::string &id);
    void detach(unsigned serial, const std::string &why);
    void startReceiver(
        unsigned serial, const std::string &peerId, const std::optional<std::string> &name);
    void onReceiverFailed(unsigned serial, const std::string &reason);
    void onReceiverFinished(unsigned serial);
    void scheduleRetry(const std::string &peerId, std::chrono::milliseconds delay);
    Receiver *attachedTo(const std::string &peerId);
    void checkStopped();

    GMainContext *context_; // borrowed: the gateway's
    Settings settings_;
    FatalCallback onFatal_;
    Events events_;
    RecordingLayout layout_;
    Manifest manifest_;
    std::unique_ptr<RoomLink> signaling_;
    rc::log::Logger log_; // "gateway: room <id>"
    Membership membership_; // who is in the room, which receiver is attached to whom
    std::map<std::string, Member> members_; // as membership_ last said (MemberJoined/Left)
    std::map<std::string, GPtr<GSource>> retryTimers_; // by peer id (ScheduleRetry)
    std::map<unsigned, Receiver> receivers_; // by membership_'s serial
    std::vector<std::unique_ptr<Output>> outputs_; // creation order
    std::map<std::string, unsigned> outputSerials_; // per template name, for ids
    bool hadParticipant_ = false; // a receiver was started: composites run from then on
    std::map<std::string, std::unique_ptr<RoomMixer>> mixers_; // by "WxH@fps"
    // Each receiver's feed into each composite, to take it out when the composite goes.
    // mixer key -> receiver serial -> its feed (the receiver owns it; weak: only to find it again)
    std::map<std::string, std::map<unsigned, std::weak_ptr<MixFeed>>> feeds_;
    unsigned welcomes_ = 0;
    bool joined_ = false;
    bool stopping_ = false;
    std::function<void()> stopDone_;
    GPtr<GSource> rejoinCheck_; // ScheduleRecheck
    std::shared_ptr<RoomSession *> self_; // the outputs half's liveness token
    rc::WeakSelf<RoomSession> weakSelf_ { this }; // last: cut first
};

} // namespace rc::gateway
