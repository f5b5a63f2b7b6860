// One room's composite: a grid of its participants' decoded video and their mixed audio, raw,
// fed to the room-scope outputs (template bins: RTMP, HLS, composite recording).
//
// Owned by the RoomSession (one per room and per distinct output size/rate);
// thread-bound to the gateway's main context: every method is called there,
// and every callback comes from there (the bus watch). Its own GstPipeline:
//
// clang-format off
//   videotestsrc(black, live) ─┐
//   per participant: grey tile ┼► compositor ► capsfilter WxH@fps I420 ► tee ─► queue ► output bin "video"
//   per participant: appsrc ───┘                                          (one queue per output)
//   audiotestsrc(silence, live) ┐
//   per participant: appsrc ►   ┴► audiomixer ► capsfilter 48 kHz S16LE stereo ► tee ─► queue ► "audio"
//     audioconvert ► audioresample
// clang-format on
//
// The live background sources keep black and silence flowing while the room
// is empty, so outputs never see a gap when the last participant leaves and
// someone joins. Participants' decoded media arrives through MixFeed lanes
// (see mix_feed.h), re-stamped with its arrival time on this pipeline's
// clock; the aggregators wait kLatency for it.
//
// Outputs fail alone: each output's queue is leaky (a stalled network sink
// drops composite frames instead of stalling the mixer) and its entry pads
// swallow error returns, so an output whose sink fails only gets an
// outputError callback; the mixer and the other outputs keep running. The
// outputs (queues, guarded entries, EOS and failures) are a MixerOutputs the
// mixer owns while it runs (mixer_outputs.h); the tiles and participants'
// branches are here.
#pragma once

#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/gst/bus_message.h"
#include "common/gst/gst_ptr.h"
#include "gateway/composite/composite_layout.h"
#include "gateway/composite/mix_feed.h"
#include "gateway/composite/mixer_outputs.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rc::gateway {

class RoomMixer
{
public:
    struct Settings
    {
        std::string room; // for names and log lines
        int width = 1280, height = 720, fps = 30;
    };
    // Called on the main context. The mixer may be used (removeOutput,
    // stop, even destroyed) from inside any of them.
    struct Callbacks
    {
        // Every sink of outputBin got EOS (after finishOutput): its data is
        // written; call removeOutput to dispose of it.
        std::function<void(GstElement *outputBin)> outputEos;
        // An element inside outputBin posted an ERROR, or its entry returned
        // an error flow (once per output, the first error: later ones are its
        // echoes; it then gets no more data, and no outputEos). problem has the
        // ERROR's domain, code and debug text, by which the owner tells a full
        // disk from other faults (0, 0 for an error flow without a message).
        // Call removeOutput, and add a fresh bin to retry.
        std::function<void(GstElement *outputBin, const BusProblem &problem)> outputError;
        // The mixer's own pipeline failed (not an output's, not a
        // participant's): the composite has stopped. Optional.
        std::function<void(const std::string &message)> failed;
    };
    // How long the aggregators wait for a participant's arrival-stamped data.
    static constexpr std::chrono::milliseconds kLatency { 150 };
    // Every element a composite makes in code (its pipeline, tiles, outputs' entries and its
    // participants' decode branches); a room template needs them all.
    static RequiredElements requiredElements();

    RoomMixer(GMainContext *context, Settings settings, Callbacks callbacks);
    ~RoomMixer(); // stop()
    RoomMixer(const RoomMixer &) = delete;
    RoomMixer &operator=(const RoomMixer &) = delete;

    const Settings &settings() const noexcept { return settings_; }

    // Builds the pipeline and sets it PLAYING (black and silence at once).
    // False with error if an element is missing or the pipeline refuses.
    bool start(std::string &error);
    // Everything to NULL and removed: participants' lanes detach (their
    // decode branches then drop), outputs are released without EOS.
    // Idempotent; the mixer cannot be started again.
    void stop();
    bool running() const noexcept { return pipeline_ != nullptr; }

    // Puts a dark-grey tile for id into the layout at once (after the
    // existing ones, join order) and returns its feed; the tile shows the
    // participant's picture once decoded video arrives through the feed, and
    // turns grey again when that video ends. Adding an id already present
    // returns its feed. Works before start() too.
    std::shared_ptr<MixFeed> addParticipant(const std::string &id);
    // Removes id's tile and audio; its feed's lanes detach. No-op if unknown.
    void removeParticipant(const std::string &id);
    size_t participantCount() const noexcept { return participants_.size(); }
    // The current layout, in join order (for logs and tests).
    std::vector<TileLayout> layout() const;

    // Adds a room output: a bin (e.g. an instantiated room-scope template)
    // with ghost sink pads "video" (raw video) and/or "audio" (raw audio).
    // Takes a reference (sinks a floating one); the bin joins the mixer's
    // pipeline at its state, its sinks set to async=false (a sink prerolling
    // would take the running pipeline's state with it). Its buffers carry the
    // mixer's running time, which starts at 0 at start(): an output added
    // later (an RTMP retry) starts later, as a live stream does. False with
    // error (and the bin left out) on failure.
    bool addOutput(GstElement *bin, std::string &error);
    // Unlinks the output from the tees, sets it to NULL and drops it from
    // the pipeline (and our reference). No-op for an unknown bin.
    void removeOutput(GstElement *bin);
    // Stops feeding the output and sends EOS into its entries (after what is
    // queued); outputEos follows when its sinks have it. An output that
    // already failed never gets there: remove it instead.
    void finishOutput(GstElement *bin);
    // Pauses (drop: a file's timeline gets a hole; blank: black and silence for a stream's
    // players) or resumes (none) outputBin; false when it is not one of the running outputs.
    bool setOutputPause(GstElement *bin, MixerOutputs::Pause mode)
    {
        return outputs_ && outputs_->setPause(bin, mode);
    }
    size_t outputCount() const noexcept { return outputs_ ? outputs_->count() : 0; }

private:
    friend class MixFeed;
    // Main context, from MixFeed::createDecodeBranch: builds the mixer side
    // of a new decode branch (replacing an older one of the same kind).
    void attachLane(const std::string &participant, const std::shared_ptr<MixLane> &lane);

    struct Branch; // one lane's elements in our pipeline
    struct Participant;
    struct Trampolines;

    Participant *find(const std::string &id);
    bool buildTile(Participant &p, std::string &error);
    bool buildBranch(Participant &p, const std::shared_ptr<MixLane> &lane, std::string &error);
    void releaseBranch(std::unique_ptr<Branch> &branch);
    void releaseParticipantElements(Participant &p);
    void relayout();
    void onVideoSize(const MixLane *lane, int width, int height);
    void onLaneEnded(const MixLane *lane);
    bool onBusMessage(GstMessage *message);

    GMainContext *context_; // borrowed: the gateway's, outlives every room
    Settings settings_;
    Callbacks callbacks_;
    GPtr<GstElement> pipeline_;
    GPtr<GstElement> compositor_, audiomixer_, videoTee_, audioTee_;
    GPtr<GSource> busWatch_;
    std::vector<std::unique_ptr<Participant>> participants_; // join order
    unsigned serial_ = 0; // element names
    rc::log::Logger log_; // "gateway: room R"
    std::unique_ptr<MixerOutputs> outputs_; // while running
    WeakSelf<RoomMixer> self_ { this }; // liveness token for feeds and posted calls; last
};

} // namespace rc::gateway
