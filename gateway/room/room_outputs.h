// A room's outputs of both scopes: their life cycles and network retries, the room composites the
// room-scope ones run in with every receiver's feed into them, and what the API shows of them.
//
// Owned by RoomSession (which keeps the public API and forwards here); thread-bound to the
// gateway's main context, like the room. It reaches back into its room only through Room (the
// receivers to attach to, whether the room is closing, "an output ended") and Events.
//
// Every template the room starts with and every start() is one output, id "<template>-<n>" (n
// counts per template in this room), long-lived and owning its retries; each attempt is one
// instance (MediaMTX's recorder and recorder instance):
//  - participant scope: one ParticipantOutput per receiver (own file <id>.<ext>, or own stream
//    <url>/<id>), attached to running receivers through new tee branches and given to later ones
//    (instancesFor);
//  - room scope: one bin in the RoomMixer of its size and rate (width/height/framerate params,
//    default 1280x720@30; created when the first such output starts, with every receiver as a
//    participant in join order; stopped when its last output ends). A room-scope output of a
//    room nobody has joined yet waits for the first participant.
// A network output (a template with a url param) that fails is rebuilt alone on the schedule of
// networkOutputBackoff(); the receivers and the other outputs never notice. A file output of
// either scope whose disk fails (full, I/O error) is closed as it is and rebuilt alone on
// fileOutputBackoff() once the disk has room, as a new part of the same recording
// (<id>-<n>.<ext>, <template>-<n>.<ext> for the room scope), with a disk-full gap in the
// manifest from the failure to the new part's start; the composite and its other outputs run
// on.
#pragma once

#include "common/base/gptr.h"
#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "gateway/composite/room_mixer.h"
#include "gateway/output/output_fault.h"
#include "gateway/output/output_state.h"
#include "gateway/participant/peer_receiver.h"
#include "gateway/room/manifest.h"
#include "gateway/room/recording_layout.h"
#include "gateway/templates/pipeline_template.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace rc::gateway {

// One output of a room, as the control API and webhooks show it. A participant-scope output is
// one template applied to every participant (one file or stream each); a room-scope output is one
// instance fed by the room's composite. Plain value.
struct OutputFile
{
    std::string path; // absolute path of a file ("" for a network stream)
    std::string participant; // "" for a room-scope output
    double durationSeconds = 0;
    uint64_t bytes = 0;
};

// Where a snapshot output keeps its latest picture (latest.jpg, replaced atomically).
struct OutputSnapshot
{
    std::string participant; // "" for a room-scope output
    std::string latest; // absolute path of latest.jpg
};

struct OutputInfo
{
    std::string id; // unique within the room, e.g. "record-mkv-1"
    std::string templateName; // e.g. "rtmp"
    TemplateScope scope = TemplateScope::participant;
    OutputState state = OutputState::starting; // the API's word: apiOutputState(state)
    std::string url; // redacted URL of a network output (ops::redactUrl), "" if none
    std::vector<OutputFile> files; // so far (while running) or final
    uint64_t bytes = 0; // written or sent so far
    std::optional<std::chrono::system_clock::time_point> startedAt; // first buffer
    std::string failure; // why, when state == failed; the last error while retrying
    unsigned restarts = 0; // reconnects of a network output
    std::string manifestPath; // the room session's manifest.json
    std::vector<OutputSnapshot> snapshots; // a snapshot template's pictures (one per participant)
    // Since when it is paused (POST .../pause), nullopt while not paused.
    std::optional<std::chrono::system_clock::time_point> pausedAt;
};

class RoomOutputs
{
public:
    struct Settings
    {
        std::string room;
        std::string recordingsDir;
        std::chrono::system_clock::time_point sessionStart;
        std::chrono::milliseconds finalizeTimeout { 0 }; // how long a stopping output may take
    };
    // A receiver of the room, borrowed for the length of a call.
    struct ReceiverRef
    {
        unsigned serial; // grows with join time; ids can repeat across server restarts
        std::string peerId;
        PeerReceiver *receiver;
    };
    // What the outputs need of their room; each is called on the main context.
    struct Room
    {
        std::function<std::vector<ReceiverRef>()> receivers; // by serial, finishing ones too
        std::function<bool()> closing; // the room is stopping: nothing retries or starts
        std::function<void()> outputEnded; // one reached finished/failed
    };
    // Unset ones are skipped; see RoomSession::Events.
    struct Events
    {
        std::function<void(const OutputInfo &)> outputStarted;
        std::function<void(const OutputInfo &)> outputFinished;
        std::function<void(const OutputInfo &, const std::string &reason)> outputFailed;
        std::function<void(const OutputInfo &)> outputRestarted;
    };
    using StopDone = std::function<void(std::optional<OutputInfo>)>;

    // layout and manifest are the room's, borrowed: they outlive this.
    RoomOutputs(GMainContext *context, Settings settings, RecordingLayout &layout,
        Manifest &manifest, Room room);
    ~RoomOutputs();
    RoomOutputs(const RoomOutputs &) = delete;
    RoomOutputs &operator=(const RoomOutputs &) = delete;

    void setEvents(Events events) { events_ = std::move(events); }

    // An output the room starts with (before anyone joined): a room-scope one waits for the
    // first participant.
    void addInitial(const PipelineTemplate &tpl, const std::map<std::string, std::string> &params);
    // RoomSession::startOutput.
    bool start(const PipelineTemplate &tpl, const std::map<std::string, std::string> &params,
        OutputInfo &started, std::string &errorCode, std::string &error);
    // RoomSession::stopOutput.
    void stop(const std::string &id, StopDone done);
    // RoomSession::pauseOutput (room_outputs_pause.cpp): pauses or resumes output id. A file
    // output (either scope) drops its media before the muxer, keeping its file and time base,
    // and the paused span becomes a "paused" gap per file in the manifest; a network output
    // of the composite (rtmp, hls) sends black and silence. A participant-scope network output
    // (rtmp-passthrough: encoded media passed through) cannot send black: CannotPause. The
    // pause holds for instances built later (retries, participants joining).
    enum class PauseResult { ok, notFound, notLive, alreadyPaused, notPaused, cannotPause };
    PauseResult setPaused(const std::string &id, bool pause, OutputInfo &info);
    // Running ones first, then finished/failed ones.
    std::vector<OutputInfo> infos() const;
    std::optional<OutputInfo> info(const std::string &id) const;
    size_t mixerCount() const noexcept { return mixers_.size(); }

    // ----- the room's receivers -----
    // One instance of every live participant-scope output, for a receiver about to start.
    std::vector<std::unique_ptr<ParticipantOutput>> instancesFor(const std::string &peerId);
    // A receiver was added to the room (already listed by Room::receivers): into every
    // composite; the first one starts the room-scope outputs waiting for a participant.
    void receiverAdded(unsigned serial, const std::string &peerId, PeerReceiver &receiver);
    // A receiver is gone (no longer listed): its retries and feeds go, and its tile unless
    // another receiver feeds the same peer id.
    void receiverFinished(unsigned serial, const std::string &peerId);
    // PeerReceiver::Callbacks of a receiver's participant-scope instances.
    void participantOutputStarted(const std::string &peerId, ParticipantOutput &out,
        std::chrono::system_clock::time_point at);
    void participantOutputFinished(const std::string &peerId, ParticipantOutput &out);
    void participantOutputError(
        unsigned serial, ParticipantOutput &out, const std::string &message);

    // ----- the WHEP live view (not a template output: it holds a composite open) -----
    // The default composite (1280x720@30, every receiver in it), started if needed and kept
    // until releaseLiveComposite(); nullptr with error while the room closes.
    RoomMixer *acquireLiveComposite(std::string &error);
    void releaseLiveComposite();
    // Errors from a composite bin no output owns (the live view's) go here.
    void setForeignBinError(std::function<void(GstElement *, const std::string &)> fn)
    {
        foreignBinError_ = std::move(fn);
    }

    // ----- the room stopping -----
    // No more retries; room-scope outputs get EOS (participant ones end with their receivers).
    void closeRoom();
    // Every room-scope output has ended.
    bool roomScopeSettled() const;
    // The receivers are all gone: every output still live ends finished, the composites stop.
    void endAll();

private:
    struct RoomTap; // first buffer and duration of a room output (probe, atomics)
    struct Retry
    {
        rc::Backoff backoff = networkOutputBackoff();
        GPtr<GSource> timer;
        bool disk = false; // a file output's disk failed: waits for room, fileOutputBackoff()
    };
    // Free space a file output waits for before it opens a new part after a disk fault.
    static constexpr uint64_t kDiskRoomToResume = 1024 * 1024;
    // (Constructors written out: a nested struct's member initializers are not usable in a
    // variant's default constructor before RoomOutputs is complete.)
    struct ParticipantScope
    {
        ParticipantScope() { }
        std::vector<OutputFile> files; // closed instances
        unsigned pending = 0; // receivers still closing it (stop)
        std::map<unsigned, Retry> retries; // by receiver serial
        std::map<std::string, std::string> snapshots; // peer id -> its latest.jpg
    };
    struct RoomScope
    {
        RoomScope() { }
        bool awaitingParticipant = false; // its composite starts with the first participant
        std::string mixerKey;
        GPtr<GstElement> bin; // in the mixer; nullptr while retrying or after the end
        std::string path; // the file (or HLS playlist) it writes, "" for a stream
        std::string hlsDir; // an HLS output's folder (its size is the output's)
        std::string snapshotLatest; // a snapshot output's latest.jpg
        std::string manifestPath; // path as listed in the manifest ("" until started)
        std::vector<OutputFile> parts; // earlier parts, each closed by a disk fault
        std::shared_ptr<RoomTap> tap;
        Retry retry;
        GPtr<GSource> stopTimer;
        double finalDuration = 0;
        uint64_t finalBytes = 0;
    };
    // One output (see OutputInfo). Participant scope: instances live in the receivers
    // (ParticipantOutput::outputId() == id); room scope: one bin in the mixer of its size and
    // rate.
    struct Output
    {
        std::string id;
        PipelineTemplate tpl;
        std::map<std::string, std::string> params;
        std::string redactedUrl; // "" if not a network output
        OutputLifecycle life;
        std::optional<std::chrono::system_clock::time_point> startedAt;
        unsigned restarts = 0;
        std::string lastError; // why it is retrying ("" once running again)
        std::vector<StopDone> waiters;
        std::variant<ParticipantScope, RoomScope> scope;
        std::optional<std::chrono::system_clock::time_point> pausedAt; // see setPaused
        std::vector<std::string> pausedGaps; // participants ("" room scope) with an open gap

        ParticipantScope *participant() { return std::get_if<ParticipantScope>(&scope); }
        const ParticipantScope *participant() const
        {
            return std::get_if<ParticipantScope>(&scope);
        }
        RoomScope *room() { return std::get_if<RoomScope>(&scope); }
        const RoomScope *room() const { return std::get_if<RoomScope>(&scope); }
    };

    bool closing() const { return room_.closing && room_.closing(); }
    Output &createOutput(
        const PipelineTemplate &tpl, const std::map<std::string, std::string> &params);
    Output *findOutput(const std::string &id);
    const Output *findOutput(const std::string &id) const;
    OutputInfo infoOf(const Output &o) const;
    void scheduleRetry(Output &o, Retry &retry, std::function<void(RoomOutputs &)> rebuild);
    // An instance of o failed and is rebuilt on retry, either scope: o is retrying with reason;
    // a disk fault (not OutputFault::other) moves retry to fileOutputBackoff(), opens a
    // disk-full gap for participant ("" for the room scope) and sends output.failed (state
    // retrying: an operator must make room).
    void retryFailedInstance(Output &o, Retry &retry, OutputFault fault,
        const std::string &participant, const std::string &reason,
        std::function<void(RoomOutputs &)> rebuild);
    // Before a file output is rebuilt after a disk fault: true, with rebuild scheduled again,
    // while the recordings' file system has less than kDiskRoomToResume free (a part opened on
    // a full disk fails at its first write and leaves an empty file).
    bool awaitDiskRoom(Output &o, Retry &retry, const std::string &who,
        const std::function<void(RoomOutputs &)> &rebuild);
    // An instance of o got its first buffer at: o runs (again), a disk-full gap of participant
    // ("" for the room scope) ends there, and the first one is output.started.
    void instanceStarted(
        Output &o, const std::string &participant, std::chrono::system_clock::time_point at);
    // A file part a failed instance leaves: cut back to its last whole fragment (an MP4),
    // finished in the manifest and added to files, or, when nothing reached the disk, removed
    // with its manifest entry (listed: fileStarted was written for it).
    void closePart(OutputFile part, bool listed, std::vector<OutputFile> &files);
    void cancelRetries(Output &o);
    void completeOutput(Output &o, const std::string &failure = {});
    // Participant scope (room_outputs.cpp).
    std::unique_ptr<ParticipantOutput> makeParticipantInstance(
        Output &o, const std::string &peerId, std::string &error);
    void rebuildParticipantInstance(const std::string &id, unsigned serial);
    // A failed instance's file: kept and finished in the manifest as a part, or removed when
    // nothing reached the disk.
    void closeFailedPart(const std::string &peerId, ParticipantOutput &out);
    // Room scope (room_outputs_composite.cpp).
    bool startRoomOutput(Output &o, std::string &error);
    void startAwaitingRoomOutputs();
    bool buildRoomInstance(Output &o, std::string &error);
    RoomMixer *ensureMixer(
        const std::map<std::string, std::string> &params, std::string &key, std::string &error);
    void onMixerFailed(const std::string &key, const std::string &message);
    void onRoomOutputEos(GstElement *bin);
    void onRoomOutputError(GstElement *bin, const BusProblem &problem);
    void retryRoomOutput(const std::string &id);
    void onRoomOutputStarted(const std::string &id, std::chrono::system_clock::time_point at);
    void finishRoomOutput(Output &o);
    void closeRoomInstance(Output &o);
    void releaseMixerIfUnused(const std::string &key);
    void roomFileInfo(const Output &o, OutputInfo &info) const;
    // Pause (room_outputs_pause.cpp): what a room-scope instance's entries do while o is paused,
    // and o's pause applied to a room instance just built.
    static MixerOutputs::Pause roomPauseMode(const Output &o);
    void pauseRoomInstance(const Output &o);
    // The paused gaps of o end at (a resume, or the output ending while paused).
    void endPausedGaps(Output &o, std::chrono::system_clock::time_point at);

    GMainContext *context_; // borrowed: the gateway's
    Settings settings_;
    RecordingLayout &layout_; // borrowed: the room's
    Manifest &manifest_; // borrowed: the room's
    Room room_;
    Events events_;
    rc::log::Logger log_;
    std::vector<std::unique_ptr<Output>> outputs_; // creation order
    std::map<std::string, unsigned> outputSerials_; // per template name, for ids
    bool hadParticipant_ = false; // a receiver was started: composites run from then on
    std::map<std::string, std::unique_ptr<RoomMixer>> mixers_; // by "WxH@fps"
    bool liveView_ = false; // the live view holds liveKey_'s composite
    std::string liveKey_;
    std::function<void(GstElement *, const std::string &)> foreignBinError_;
    // Each receiver's feed into each composite, to take it out when the composite goes.
    // mixer key -> receiver serial -> its feed (the receiver owns it; weak: only to find it again)
    std::map<std::string, std::map<unsigned, std::weak_ptr<MixFeed>>> feeds_;
    // A manifest write that failed (a full disk) is written again on this schedule.
    rc::Backoff manifestBackoff_ { std::chrono::milliseconds(500), std::chrono::seconds(8) };
    GPtr<GSource> manifestRetryTimer_;
    void scheduleManifestWrite();
    rc::WeakSelf<RoomOutputs> self_ { this }; // last: cut first
};

} // namespace rc::gateway
