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
//  - when our signaling drops, every receiver is *stranded*: our member id
//    changes with the rejoin, so an offer from its webrtcbin would reach a new
//    peer connection at the client; it restarts ICE no more, and its client's
//    connection can only come back by itself (on unchanged credentials);
//  - on every welcome, an attached receiver whose id is listed with the same
//    name stays attached and is not offered to again (our connection
//    dropped, not theirs), unless a second later its media has stopped (that
//    client dropped us during the outage): then it is finalized and offered
//    to anew at once; a receiver whose media had stopped before our signaling
//    dropped (the participant's network, not the rejoin) is not rechecked,
//    and is re-attached by name to a newly listed id (membership.h, "away");
//    any other is
//    detached (its presence ends in the manifest) but keeps recording while
//    its media flows, and is finalized when its media stops or ICE fails;
//  - a stranded receiver in a network gap fails after 35 s without media
//    (its connection is not coming back), and its member is offered to anew
//    under its current id;
//  - every listed peer without an attached receiver, and every later
//    peer-joined, gets a new receiver and an offer;
//  - an attached receiver that fails (a first negotiation without media, or neither media nor
//    a connection for the participant grace; silence alone is a gap, and ICE trouble an ICE
//    restart inside the receiver) is finalized and, while its peer is still in the room,
//    replaced after a capped backoff.
// Gaps a receiver reports (network, sender paused) go into the manifest.
// Those decisions are Membership's (membership.h, a pure reducer with unit
// tests); RoomSession feeds it events and carries out its commands.
//
// Outputs: every template the room starts with (Settings::templates) and
// every startOutput() is one output, of participant or room scope, kept by
// RoomOutputs (room_outputs.h), which this forwards to. With no output at all
// the participants are still received (to fakesinks), so that outputs can be
// started later.
#pragma once

#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/protocol/room_link.h"
#include "gateway/participant/peer_receiver.h"
#include "gateway/room/manifest.h"
#include "gateway/room/membership.h"
#include "gateway/room/participant_info.h"
#include "gateway/room/recording_layout.h"
#include "gateway/room/room_outputs.h"
#include "gateway/room/session_resume.h"
#include "gateway/room/whip_sources.h"
#include "gateway/templates/pipeline_template.h"
#include "gateway/whep/whep_room.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

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
        // Continue a crashed run's session (sessionStart is then its start) or link a new one.
        SessionPlan plan;
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
    bool idle() const noexcept { return receivers_.empty() && whip_.idle(); }
    size_t receiverCount() const noexcept { return receivers_.size(); }
    // The room's WHEP live view (created on first use); nullptr while the room stops.
    WhepRoom *liveView();
    size_t liveViewers() const noexcept { return liveView_ ? liveView_->viewerCount() : 0; }
    // A new token for the next (re)join.
    void setToken(std::optional<std::string> token);

    const std::string &room() const noexcept { return settings_.room; }
    void setEvents(Events events)
    {
        outputs_.setEvents({ events.outputStarted, events.outputFinished, events.outputFailed,
            events.outputRestarted });
        events_ = std::move(events);
    }
    // Visible participants now in the room, then its WHIP publishers.
    std::vector<ParticipantInfo> participants() const;
    // A WHIP publisher's offer (POST /whip/{room}); see WhipSources::publish.
    void publishWhip(const std::string &offer, const std::optional<std::string> &name,
        WhipSources::AnswerDone done)
    {
        whip_.publish(offer, name, std::move(done));
    }
    // A WHIP publisher's DELETE; false when no such source.
    bool endWhip(const std::string &id) { return whip_.end(id); }
    // Every output of this session, running ones first, then finished/failed
    // ones (kept so that a client can read the final state).
    std::vector<OutputInfo> outputs() const { return outputs_.infos(); }
    std::optional<OutputInfo> output(const std::string &id) const { return outputs_.info(id); }
    // Starts an output of tpl at run time with resolved, validated params.
    // False with error when it cannot start (errorCode "conflict": the same
    // template with the same params already runs; "failed": it could not be
    // built). Participant scope: attached to every current and future
    // participant whose negotiated codecs the template takes.
    bool startOutput(const PipelineTemplate &tpl, const std::map<std::string, std::string> &params,
        OutputInfo &started, std::string &errorCode, std::string &error)
    {
        return outputs_.start(tpl, params, started, errorCode, error);
    }
    // EOS into the output, wait for its sinks (bounded by the finalize
    // timeout), then done(final state); nullopt if no such running output.
    // POST .../pause and .../resume: see RoomOutputs::setPaused.
    RoomOutputs::PauseResult pauseOutput(const std::string &id, bool pause, OutputInfo &info)
    {
        return outputs_.setPaused(id, pause, info);
    }
    void stopOutput(const std::string &id, std::function<void(std::optional<OutputInfo>)> done)
    {
        outputs_.stop(id, std::move(done));
    }

    // For tests and logs: the room composites running now (one per distinct
    // size and rate of the room-scope outputs).
    size_t mixerCount() const noexcept { return outputs_.mixerCount(); }
    const RecordingLayout &layout() const noexcept { return layout_; }

private:
    ParticipantInfo participantInfo(const std::string &id) const;

    // The shell's view of a member, for participantInfo(); Membership decides who is one.
    struct Member
    {
        std::optional<std::string> name;
        std::chrono::system_clock::time_point joinedAt = std::chrono::system_clock::now();
        std::string lastFailure; // why the latest receiver for it failed, for the API
    };
    struct Receiver
    {
        std::unique_ptr<PeerReceiver> receiver;
        std::string peerId; // the id it records under (files, manifest, RoomOutputs)
        std::string sendTo; // its member's current id (a Reattach changes it)
        bool attached = true; // as Membership last said (participantInfo() reads it)
        // It lived through a signaling drop: no offers can reach its peer connection any more
        // (PeerReceiver::stopIceRestarts), which may only come back by itself.
        bool stranded = false;
        ParticipantHealth::Gap gap = ParticipantHealth::Gap::None; // as last reported
        GPtr<GSource> reconnectTimer; // a Reconnect with a delay, pending
    };

    // Feed one event into membership_ and carry out the commands it returns, in order.
    void run(MembershipCommands commands);
    void onWelcome(const protocol::Welcome &welcome);
    void recheckAfterRejoin(unsigned key, const std::vector<unsigned> &serials);
    void onMessage(const protocol::ServerMessage &message);
    void onPeerJoined(const protocol::PeerInfo &peer);
    void onPeerLeft(const std::string &id);
    void detach(unsigned serial, const std::string &why, bool waiting);
    void startReceiver(
        unsigned serial, const std::string &peerId, const std::optional<std::string> &name);
    void strandReceivers();
    void reconnect(unsigned serial, const std::string &reason, std::chrono::milliseconds delay);
    std::vector<unsigned> awayAtRejoin() const;
    bool watchStranded();
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
    WhipSources whip_; // WHIP publishers; their serials are above membership_'s
    RoomOutputs outputs_; // after the receivers: its hooks list them
    std::unique_ptr<WhepRoom> liveView_; // after outputs_: leaves the composite before it stops
    unsigned welcomes_ = 0;
    bool joined_ = false;
    bool stopping_ = false;
    std::function<void()> stopDone_;
    std::map<unsigned, GPtr<GSource>> rejoinChecks_; // ScheduleRecheck, by a key of their own
    unsigned rejoinChecksMade_ = 0;
    // When our signaling last dropped (for Membership::awayAtRejoin); nullopt before any drop.
    std::optional<std::chrono::steady_clock::time_point> droppedAt_;
    GPtr<GSource> strandedWatch_; // watchStranded(), while a stranded receiver lives
    rc::WeakSelf<RoomSession> self_ { this }; // last: cut first
};

} // namespace rc::gateway
