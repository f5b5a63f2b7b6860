// Pausing and resuming a room's outputs (POST .../pause, .../resume); see RoomOutputs::setPaused.
//
// A paused file keeps its muxer, file and time base: nothing reaches the muxer, so the file's
// timeline has a hole the length of the pause (players hold the last frame) and its duration
// stays the wall time. The hole is not filled like a network gap (the gap fillers sit before the
// tee and see a healthy stream): "a minute off the record" must leave no media, not even black.
// A stream's viewers instead need media to keep playing: the composite's raw frames are replaced
// by black and silence for that output alone.
#include "gateway/room/room_outputs.h"

namespace rc::gateway {

MixerOutputs::Pause RoomOutputs::roomPauseMode(const Output &o)
{
    if (!o.pausedAt)
        return MixerOutputs::Pause::none;
    const RoomScope *r = o.room();
    const bool stream
        = !o.redactedUrl.empty() || (r && !r->hlsDir.empty()) || o.tpl.name.rfind("hls", 0) == 0;
    return stream ? MixerOutputs::Pause::blank : MixerOutputs::Pause::drop;
}

void RoomOutputs::pauseRoomInstance(const Output &o)
{
    const RoomScope *r = o.room();
    if (!r || !r->bin)
        return;
    auto mixer = mixers_.find(r->mixerKey);
    if (mixer != mixers_.end())
        mixer->second->setOutputPause(r->bin.get(), roomPauseMode(o));
}

void RoomOutputs::endPausedGaps(Output &o, std::chrono::system_clock::time_point at)
{
    const double offset = manifest_.offsetOf(at);
    for (const auto &participant : o.pausedGaps)
        manifest_.gapEnded(participant, o.id, Manifest::GapCause::Paused, offset);
    o.pausedGaps.clear();
}

RoomOutputs::PauseResult RoomOutputs::setPaused(const std::string &id, bool pause, OutputInfo &info)
{
    Output *o = findOutput(id);
    if (!o)
        return PauseResult::notFound;
    if (!o->life.live() || o->life.finishing())
        return PauseResult::notLive;
    if (pause && o->pausedAt)
        return PauseResult::alreadyPaused;
    if (!pause && !o->pausedAt)
        return PauseResult::notPaused;
    // Encoded media passed through cannot become black without an encoder of its own.
    if (pause && o->participant() && !o->redactedUrl.empty())
        return PauseResult::cannotPause;

    const auto now = std::chrono::system_clock::now();
    const double offset = manifest_.offsetOf(now);
    o->pausedAt = pause ? std::optional(now) : std::nullopt;
    if (o->room()) {
        pauseRoomInstance(*o);
        if (pause && roomPauseMode(*o) == MixerOutputs::Pause::drop && o->room()->bin) {
            manifest_.gapStarted("", o->id, Manifest::GapCause::Paused, offset);
            o->pausedGaps.push_back("");
        }
    } else {
        for (const ReceiverRef &rr : room_.receivers())
            for (const auto &out : rr.receiver->outputs()) {
                if (out->outputId() != o->id)
                    continue;
                // Only a started file has a timeline to hole; a later start simply begins later.
                if (pause && out->started() && !out->finalizing()) {
                    manifest_.gapStarted(rr.peerId, o->id, Manifest::GapCause::Paused, offset);
                    o->pausedGaps.push_back(rr.peerId);
                }
                out->setPaused(pause);
            }
    }
    if (!pause)
        endPausedGaps(*o, now);
    log_.info("output %s %s", id.c_str(), pause ? "paused" : "resumed");
    info = infoOf(*o);
    return PauseResult::ok;
}

} // namespace rc::gateway
