// A room's outputs: the registry, start and stop, the participant scope and its retries, and what
// the API shows; see room_outputs.h (the room scope is in room_outputs_composite.cpp).
#include "gateway/room/room_outputs.h"

#include "common/base/main_context.h"
#include "gateway/ops/output_params.h"
#include "gateway/output/fragment_trim.h"
#include "gateway/output/snapshot_writer.h"
#include "gateway/templates/template_instance.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <utility>

namespace rc::gateway {

RoomOutputs::RoomOutputs(GMainContext *context, Settings settings, RecordingLayout &layout,
    Manifest &manifest, Room room)
    : context_(context)
    , settings_(std::move(settings))
    , layout_(layout)
    , manifest_(manifest)
    , room_(std::move(room))
    , log_(rc::log::Logger("gateway").child("room " + settings_.room))
{
    manifest_.setWriteFailedHandler([this] { scheduleManifestWrite(); });
}

RoomOutputs::~RoomOutputs()
{
    self_.invalidate();
    manifest_.setWriteFailedHandler(nullptr);
    manifestRetryTimer_.reset();
    for (auto &o : outputs_) {
        if (RoomScope *r = o->room())
            r->stopTimer.reset();
        cancelRetries(*o);
    }
    for (auto &[key, mixer] : mixers_)
        mixer->stop();
    mixers_.clear();
}

RoomOutputs::Output &RoomOutputs::createOutput(
    const PipelineTemplate &tpl, const std::map<std::string, std::string> &params)
{
    auto o = std::make_unique<Output>();
    o->id = tpl.name + "-" + std::to_string(++outputSerials_[tpl.name]);
    o->tpl = tpl;
    o->params = params;
    if (tpl.scope == TemplateScope::room)
        o->scope = RoomScope {};
    for (const auto &p : tpl.params)
        if (p.kind == TemplateParamKind::url)
            if (auto it = params.find(p.name); it != params.end())
                o->redactedUrl = rc::ops::redactUrl(it->second);
    outputs_.push_back(std::move(o));
    const Output &made = *outputs_.back();
    log_.info("output %s: template %s (%s scope)%s%s", made.id.c_str(), tpl.name.c_str(),
        scopeName(tpl.scope), made.redactedUrl.empty() ? "" : " to ", made.redactedUrl.c_str());
    return *outputs_.back();
}

RoomOutputs::Output *RoomOutputs::findOutput(const std::string &id)
{
    for (auto &o : outputs_)
        if (o->id == id)
            return o.get();
    return nullptr;
}

const RoomOutputs::Output *RoomOutputs::findOutput(const std::string &id) const
{
    for (const auto &o : outputs_)
        if (o->id == id)
            return o.get();
    return nullptr;
}

void RoomOutputs::addInitial(
    const PipelineTemplate &tpl, const std::map<std::string, std::string> &params)
{
    // Room-scope ones start their composite with the first participant (a broadcast or file
    // should not open with minutes of black before anyone is there).
    Output &o = createOutput(tpl, params);
    if (RoomScope *r = o.room())
        r->awaitingParticipant = true;
}

bool RoomOutputs::start(const PipelineTemplate &tpl,
    const std::map<std::string, std::string> &params, OutputInfo &started, std::string &errorCode,
    std::string &error)
{
    if (closing()) {
        errorCode = "failed";
        error = "the room is closing";
        return false;
    }
    for (const auto &o : outputs_) {
        if (o->life.live() && !o->life.finishing() && o->tpl.name == tpl.name
            && o->params == params) {
            errorCode = "conflict";
            error = "output " + o->id + " already runs template " + tpl.name
                + " with these parameters";
            return false;
        }
    }
    Output &o = createOutput(tpl, params);
    if (RoomScope *r = o.room(); r && !hadParticipant_) {
        // Templates were checked when loaded; what remains (a file that
        // cannot be created) is reported as output.failed when it starts.
        r->awaitingParticipant = true;
        log_.info("output %s starts with the first participant", o.id.c_str());
    } else if (r) {
        if (!startRoomOutput(o, error)) {
            errorCode = "failed";
            log_.error("output %s cannot start: %s", o.id.c_str(), error.c_str());
            o.life.end(error);
            releaseMixerIfUnused(r->mixerKey);
            return false;
        }
    } else {
        // On every participant now here; instancesFor gives it to later ones.
        for (const ReceiverRef &rr : room_.receivers()) {
            if (rr.receiver->finishing())
                continue;
            std::string why;
            auto instance = makeParticipantInstance(o, rr.peerId, why);
            if (!instance) {
                // The template itself does not instantiate: nothing will.
                errorCode = "failed";
                error = why;
                o.life.end(why);
                return false;
            }
            if (!rr.receiver->addOutput(std::move(instance), why))
                log_.warn("output %s for %s: %s", o.id.c_str(), rr.peerId.c_str(), why.c_str());
        }
    }
    started = infoOf(o);
    return true;
}

void RoomOutputs::stop(const std::string &id, StopDone done)
{
    Output *o = findOutput(id);
    if (!o || o->life.ended()) {
        if (done)
            post(context_, [done] { done(std::nullopt); });
        return;
    }
    if (done)
        o->waiters.push_back(std::move(done));
    if (!o->life.moveTo(OutputState::finishing))
        return; // already finishing
    cancelRetries(*o);
    endPausedGaps(*o, std::chrono::system_clock::now()); // stopped while paused: the hole ends
    log_.info("stopping output %s", id.c_str());
    if (o->room()) {
        finishRoomOutput(*o);
        return;
    }
    ParticipantScope &p = *o->participant();
    p.pending = 1; // held until every receiver is asked
    auto oneDone = [ref = self_.ref(), id] {
        RoomOutputs *self = ref.lock();
        if (!self)
            return;
        Output *out = self->findOutput(id);
        if (!out || !out->participant())
            return;
        if (unsigned &pending = out->participant()->pending; pending > 0 && --pending == 0)
            self->completeOutput(*out);
    };
    for (const ReceiverRef &rr : room_.receivers()) {
        ++p.pending;
        rr.receiver->finishOutput(id, oneDone);
    }
    oneDone();
}

void RoomOutputs::cancelRetries(Output &o)
{
    if (ParticipantScope *p = o.participant())
        p->retries.clear();
    else
        o.room()->retry.timer.reset();
}

void RoomOutputs::scheduleRetry(Output &o, Retry &retry, std::function<void(RoomOutputs &)> rebuild)
{
    const auto delay = retry.backoff.next();
    log_.info(
        "output %s: retrying in %lld ms", o.id.c_str(), static_cast<long long>(delay.count()));
    retry.timer = addTimeout(context_, delay, [ref = self_.ref(), context = context_, rebuild] {
        // Run from a later dispatch: rebuild may replace this very timer.
        ref.post(context, rebuild);
        return false;
    });
}

void RoomOutputs::retryFailedInstance(Output &o, Retry &retry, OutputFault fault,
    const std::string &participant, const std::string &reason,
    std::function<void(RoomOutputs &)> rebuild)
{
    o.life.moveTo(OutputState::retrying);
    o.lastError = reason;
    const bool disk = fault != OutputFault::other;
    if (disk) {
        if (retry.backoff.failures() == 0 && !retry.disk)
            retry.backoff = fileOutputBackoff();
        retry.disk = true;
        if (fault == OutputFault::diskFull)
            manifest_.gapStarted(participant, o.id, Manifest::GapCause::DiskFull,
                manifest_.offsetOf(std::chrono::system_clock::now()));
    }
    if (disk && events_.outputFailed) {
        // Not final (state retrying): output.failed tells an operator the disk needs room now.
        // (A network output's server going away is routine: it is only retried.)
        events_.outputFailed(infoOf(o), reason);
    }
    scheduleRetry(o, retry, std::move(rebuild));
}

bool RoomOutputs::awaitDiskRoom(Output &o, Retry &retry, const std::string &who,
    const std::function<void(RoomOutputs &)> &rebuild)
{
    if (!retry.disk)
        return false;
    const auto room = layout_.freeBytes();
    if (!room || *room >= kDiskRoomToResume)
        return false;
    log_.debug("output %s%s%s: %llu bytes free, waiting for %llu", o.id.c_str(),
        who.empty() ? "" : " for ", who.c_str(), static_cast<unsigned long long>(*room),
        static_cast<unsigned long long>(kDiskRoomToResume));
    scheduleRetry(o, retry, rebuild);
    return true;
}

void RoomOutputs::instanceStarted(
    Output &o, const std::string &participant, std::chrono::system_clock::time_point at)
{
    if (o.life.moveTo(OutputState::running)) // refused unless starting or retrying
        o.lastError.clear();
    // A part after a full disk: the gap ends where the new part begins.
    manifest_.gapEnded(participant, o.id, Manifest::GapCause::DiskFull, manifest_.offsetOf(at));
    if (!o.startedAt) {
        o.startedAt = at;
        if (events_.outputStarted)
            events_.outputStarted(infoOf(o));
    }
}

void RoomOutputs::closePart(OutputFile part, bool listed, std::vector<OutputFile> &files)
{
    const std::string relative = layout_.relativeToSession(part.path);
    if (part.bytes > 0) {
        // A fragmented MP4 cut inside a fragment would decode with errors at its end: it ends
        // at its last whole fragment instead (a Matroska file plays up to its last cluster).
        if (const uint64_t cut = trimToWholeFragments(part.path)) {
            log_.info("%s: cut %llu bytes of an unfinished fragment", part.path.c_str(),
                static_cast<unsigned long long>(cut));
            part.bytes = part.bytes > cut ? part.bytes - cut : 0;
        }
    }
    if (part.bytes == 0) {
        // Nothing reached the disk: no part to keep (an attempt on a disk still full).
        ::unlink(part.path.c_str());
        if (listed)
            manifest_.fileDiscarded(relative);
        return;
    }
    files.push_back(part);
    if (listed)
        manifest_.fileFinished(relative, part.durationSeconds, part.bytes);
}

void RoomOutputs::scheduleManifestWrite()
{
    if (manifestRetryTimer_)
        return; // one retry at a time; a write from an event in between may succeed first
    const auto delay = manifestBackoff_.next();
    manifestRetryTimer_ = addTimeout(context_, delay, [ref = self_.ref(), context = context_] {
        ref.post(context, [](RoomOutputs &self) {
            // Released here, a later dispatch than its own: the next failure may set a new one.
            rc::releaseLater(self.context_, std::move(self.manifestRetryTimer_));
            if (!self.manifest_.dirty() || self.manifest_.retryWrite())
                self.manifestBackoff_.reset();
        });
        return false;
    });
}

void RoomOutputs::completeOutput(Output &o, const std::string &failure)
{
    if (o.life.ended())
        return;
    cancelRetries(o);
    endPausedGaps(o, std::chrono::system_clock::now());
    o.pausedAt.reset();
    RoomScope *r = o.room();
    if (r) {
        r->stopTimer.reset();
        if (o.startedAt && !r->manifestPath.empty())
            manifest_.fileFinished(r->manifestPath, r->finalDuration, r->finalBytes);
    }
    const OutputState state = o.life.end(failure);
    OutputInfo info = infoOf(o);
    log_.info("output %s %s", o.id.c_str(), outputStateName(state));
    if (state == OutputState::failed) {
        if (events_.outputFailed)
            events_.outputFailed(info, failure);
    } else if (events_.outputFinished) {
        events_.outputFinished(info);
    }
    auto waiters = std::move(o.waiters);
    o.waiters.clear();
    for (auto &w : waiters)
        if (w)
            w(info);
    if (r)
        releaseMixerIfUnused(r->mixerKey);
    if (room_.outputEnded)
        room_.outputEnded();
}

OutputInfo RoomOutputs::infoOf(const Output &o) const
{
    OutputInfo info;
    info.id = o.id;
    info.templateName = o.tpl.name;
    info.scope = o.tpl.scope;
    info.state = o.life.state();
    info.url = o.redactedUrl;
    info.startedAt = o.startedAt;
    info.failure = o.life.failure();
    if (info.failure.empty() && o.life.state() == OutputState::retrying)
        info.failure = o.lastError; // why it is retrying (e.g. no space left on device: PATH)
    info.restarts = o.restarts;
    info.manifestPath = layout_.manifestPath();
    info.pausedAt = o.pausedAt;
    if (o.room()) {
        roomFileInfo(o, info);
    } else {
        info.files = o.participant()->files;
        for (const auto &[peer, latest] : o.participant()->snapshots)
            info.snapshots.push_back({ peer, latest });
        for (const ReceiverRef &rr : room_.receivers())
            for (const auto &out : rr.receiver->outputs())
                if (out->outputId() == o.id && out->started())
                    info.files.push_back({ out->outputPath(), rr.peerId, out->durationSeconds(),
                        out->outputPath().empty() ? out->bytesIn() : out->fileBytes() });
    }
    for (const auto &f : info.files)
        info.bytes += f.bytes;
    return info;
}

std::vector<OutputInfo> RoomOutputs::infos() const
{
    std::vector<OutputInfo> running, ended;
    for (const auto &o : outputs_)
        (o->life.ended() ? ended : running).push_back(infoOf(*o));
    running.insert(running.end(), ended.begin(), ended.end());
    return running;
}

std::optional<OutputInfo> RoomOutputs::info(const std::string &id) const
{
    if (const Output *o = findOutput(id))
        return infoOf(*o);
    return std::nullopt;
}

// ----- participant scope -----

std::unique_ptr<ParticipantOutput> RoomOutputs::makeParticipantInstance(
    Output &o, const std::string &peerId, std::string &error)
{
    TemplateVariables vars { settings_.room, peerId, sessionStamp(settings_.sessionStart),
        settings_.recordingsDir, {} };
    std::string path;
    if (!o.tpl.extension.empty())
        path = layout_.participantFile(peerId, o.tpl.extension);
    auto output = ParticipantOutput::create(context_, o.tpl, vars, o.params, path, error);
    if (!output)
        return output;
    output->setOutputId(o.id);
    if (o.pausedAt)
        output->setPaused(true); // a participant joining (or a retry) while paused
    // A snapshot template: <session>/<output id>/<participant>/latest.jpg (ids made safe for a
    // path; the same participant coming back keeps its folder, so latest.jpg stays current).
    SnapshotTarget snap { (std::filesystem::path(layout_.sessionDir()) / sanitizeFileComponent(o.id)
                              / sanitizeFileComponent(peerId))
                              .string(),
        snapshotKeep(o.params), {} };
    if (!attachSnapshotWriter(output->bin(), snap, error))
        return nullptr;
    if (!snap.latest.empty())
        o.participant()->snapshots[peerId] = snap.latest;
    return output;
}

std::vector<std::unique_ptr<ParticipantOutput>> RoomOutputs::instancesFor(const std::string &peerId)
{
    std::vector<std::unique_ptr<ParticipantOutput>> instances;
    for (auto &o : outputs_) {
        if (!o->life.live() || o->life.finishing() || !o->participant())
            continue;
        std::string error;
        auto instance = makeParticipantInstance(*o, peerId, error);
        if (!instance) {
            log_.error("%s: output %s (template %s): %s", peerId.c_str(), o->id.c_str(),
                o->tpl.name.c_str(), error.c_str());
            continue;
        }
        instances.push_back(std::move(instance));
    }
    return instances;
}

void RoomOutputs::participantOutputStarted(
    const std::string &peerId, ParticipantOutput &out, std::chrono::system_clock::time_point at)
{
    if (Output *o = findOutput(out.outputId()))
        instanceStarted(*o, peerId, at);
    if (out.outputPath().empty()) {
        log_.info("%s: output %s streaming to %s", peerId.c_str(), out.outputId().c_str(),
            rc::ops::redactUrl(out.url()).c_str());
        return;
    }
    manifest_.fileStarted(peerId, layout_.relativeToSession(out.outputPath()),
        out.pipelineTemplate().name, out.codec(MediaKind::video), out.codec(MediaKind::audio),
        manifest_.offsetOf(at));
    log_.info("%s started (%s %s)", out.outputPath().c_str(), out.codec(MediaKind::video).c_str(),
        out.codec(MediaKind::audio).c_str());
}

void RoomOutputs::participantOutputFinished(const std::string &peerId, ParticipantOutput &out)
{
    if (!out.started()) {
        // Never got a buffer: an empty shell is not a recording.
        if (!out.outputPath().empty())
            ::unlink(out.outputPath().c_str());
        if (out.disabled()) {
            std::string takes;
            for (const auto &c : out.pipelineTemplate().videoCodecs)
                takes += (takes.empty() ? "" : ", ") + c;
            manifest_.templateSkipped(peerId, out.pipelineTemplate().name,
                "the participant's codec is not one it takes (video: " + takes + ")");
        }
        return;
    }
    if (Output *o = findOutput(out.outputId()); o && o->participant())
        o->participant()->files.push_back({ out.outputPath(), peerId, out.durationSeconds(),
            out.outputPath().empty() ? out.bytesIn() : out.fileBytes() });
    if (out.outputPath().empty())
        return;
    manifest_.fileFinished(
        layout_.relativeToSession(out.outputPath()), out.durationSeconds(), out.fileBytes());
    log_.info("%s finished: %.1f s, %llu bytes", out.outputPath().c_str(), out.durationSeconds(),
        static_cast<unsigned long long>(out.fileBytes()));
}

void RoomOutputs::participantOutputError(
    unsigned serial, ParticipantOutput &out, const std::string &message)
{
    Output *o = findOutput(out.outputId());
    if (!o || o->life.ended() || !o->participant())
        return;
    std::string peerId;
    for (const ReceiverRef &rr : room_.receivers())
        if (rr.serial == serial)
            peerId = rr.peerId;
    const OutputFault fault = out.fault();
    const std::string reason = describeOutputFault(fault, out.outputPath(), message);
    // What was written stays: the instance was set to NULL, so its sink closed the file, which
    // plays up to its last whole cluster or fragment. It is a part of its own in the manifest.
    closeFailedPart(peerId, out);
    if (o->life.finishing() || closing()) {
        log_.warn("output %s failed while closing: %s", o->id.c_str(), reason.c_str());
        return;
    }
    if (out.disabled()) {
        // It had nothing to send (the participant's codec is not one it takes).
        log_.info("output %s: not retrying for a participant it cannot take", o->id.c_str());
        return;
    }
    log_.warn("output %s for %s failed: %s; retrying as a new part", o->id.c_str(), peerId.c_str(),
        reason.c_str());
    retryFailedInstance(*o, o->participant()->retries[serial], fault, peerId, reason,
        [id = o->id, serial](RoomOutputs &self) { self.rebuildParticipantInstance(id, serial); });
}

void RoomOutputs::closeFailedPart(const std::string &peerId, ParticipantOutput &out)
{
    Output *o = findOutput(out.outputId());
    if (out.outputPath().empty()) {
        if (o && o->participant() && out.started())
            o->participant()->files.push_back({ "", peerId, out.durationSeconds(), out.bytesIn() });
        return;
    }
    std::vector<OutputFile> unowned; // (every caller has the output)
    closePart(
        { out.outputPath(), peerId, out.durationSeconds(), out.started() ? out.fileBytes() : 0 },
        out.started(), o && o->participant() ? o->participant()->files : unowned);
}

void RoomOutputs::rebuildParticipantInstance(const std::string &id, unsigned serial)
{
    Output *o = findOutput(id);
    if (!o || !o->life.live() || o->life.finishing() || closing())
        return;
    std::optional<ReceiverRef> rr;
    for (const ReceiverRef &each : room_.receivers())
        if (each.serial == serial)
            rr = each;
    if (!rr || rr->receiver->finishing())
        return;
    Retry &retry = o->participant()->retries[serial];
    if (awaitDiskRoom(*o, retry, rr->peerId,
            [id, serial](RoomOutputs &self) { self.rebuildParticipantInstance(id, serial); }))
        return;
    std::string error;
    auto instance = makeParticipantInstance(*o, rr->peerId, error);
    if (!instance || !rr->receiver->addOutput(std::move(instance), error)) {
        log_.warn("output %s for %s: rebuilding failed: %s", id.c_str(), rr->peerId.c_str(),
            error.c_str());
        scheduleRetry(*o, retry,
            [id, serial](RoomOutputs &self) { self.rebuildParticipantInstance(id, serial); });
        return;
    }
    retry.backoff.started();
    ++o->restarts;
    log_.info("output %s for %s restarted (%u)", id.c_str(), rr->peerId.c_str(), o->restarts);
    if (events_.outputRestarted)
        events_.outputRestarted(infoOf(*o));
}

void RoomOutputs::receiverFinished(unsigned serial, const std::string &peerId)
{
    const double now = manifest_.offsetOf(std::chrono::system_clock::now());
    for (auto &o : outputs_) {
        if (ParticipantScope *p = o->participant()) {
            p->retries.erase(serial);
            // Left while its disk was full: the gap ends with the presence.
            manifest_.gapEnded(peerId, o->id, Manifest::GapCause::DiskFull, now);
        }
    }
    for (auto &[key, bySerial] : feeds_)
        bySerial.erase(serial);
    // Its tile goes, unless another receiver (a replacement) feeds the same id.
    bool replaced = false;
    for (const ReceiverRef &rr : room_.receivers())
        replaced = replaced || rr.peerId == peerId;
    if (!replaced)
        for (auto &[key, mixer] : mixers_)
            mixer->removeParticipant(peerId);
}

// ----- the room stopping -----

void RoomOutputs::closeRoom()
{
    for (auto &o : outputs_) {
        cancelRetries(*o);
        if (o->room() && o->life.moveTo(OutputState::finishing))
            finishRoomOutput(*o);
    }
}

bool RoomOutputs::roomScopeSettled() const
{
    return std::none_of(outputs_.begin(), outputs_.end(),
        [](const auto &o) { return o->room() && o->life.live(); });
}

void RoomOutputs::endAll()
{
    // Every participant instance is closed: the participant-scope outputs are final.
    for (auto &o : outputs_)
        if (o->life.live())
            completeOutput(*o);
    for (auto &[key, mixer] : mixers_)
        mixer->stop();
    // Destroyed from a later dispatch: we may be inside one of its callbacks.
    releaseLater(context_, std::move(mixers_));
    mixers_.clear();
    feeds_.clear();
}

} // namespace rc::gateway
