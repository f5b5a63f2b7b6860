// A room's room-scope outputs: the composites they run in, each receiver's feed into those, one
// bin per output, its first buffer, end, errors and rebuilds; see room_outputs.h.
#include "gateway/room/room_outputs.h"

#include "common/base/main_context.h"
#include "gateway/output/snapshot_writer.h"
#include "gateway/templates/template_instance.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <utility>

namespace rc::gateway {
namespace {

uint64_t fileSize(const std::string &path)
{
    struct stat st
    {
    };
    if (path.empty() || ::stat(path.c_str(), &st) != 0)
        return 0;
    return static_cast<uint64_t>(st.st_size);
}

uint64_t folderSize(const std::string &dir)
{
    uint64_t total = 0;
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.is_regular_file(ec))
            total += entry.file_size(ec);
    return total;
}

// A network output (a template with a url param) is rebuilt when it fails; a file only when its
// disk failed.
bool isNetwork(const PipelineTemplate &tpl)
{
    return std::any_of(tpl.params.begin(), tpl.params.end(),
        [](const TemplateParam &p) { return p.kind == TemplateParamKind::url; });
}

int intParam(const std::map<std::string, std::string> &params, const char *name, int fallback)
{
    auto it = params.find(name);
    if (it == params.end() || it->second.empty())
        return fallback;
    try {
        return std::stoi(it->second);
    } catch (...) {
        return fallback;
    }
}

} // namespace

// First buffer and running length of a room output, from a probe on its entry pad (a streaming
// thread of the mixer's pipeline); bytes of a network output from a probe on the sink that takes
// its URL. Shared by the probes and the output; the probes only post to the main context.
struct RoomOutputs::RoomTap
{
    GMainContext *context = nullptr;
    rc::WeakSelf<RoomOutputs>::Ref owner;
    std::string outputId;
    std::atomic<bool> started { false };
    std::atomic<gint64> firstUs { 0 }, lastUs { 0 };
    std::atomic<uint64_t> bytes { 0 };

    static GstPadProbeReturn entryProbe(GstPad *, GstPadProbeInfo *, gpointer data) noexcept
    {
        auto *tap = static_cast<std::shared_ptr<RoomTap> *>(data)->get();
        const gint64 now = g_get_monotonic_time();
        tap->lastUs.store(now, std::memory_order_relaxed);
        if (!tap->started.exchange(true)) {
            tap->firstUs.store(now, std::memory_order_relaxed);
            tap->owner.post(tap->context,
                [id = tap->outputId, at = std::chrono::system_clock::now()](
                    RoomOutputs &self) { self.onRoomOutputStarted(id, at); });
        }
        return GST_PAD_PROBE_OK;
    }
    static GstPadProbeReturn bytesProbe(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
    {
        auto *tap = static_cast<std::shared_ptr<RoomTap> *>(data)->get();
        if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
            tap->bytes.fetch_add(
                gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)), std::memory_order_relaxed);
        // mpegtsmux alignment=7 (srt) pushes lists of 7 packets.
        if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
            tap->bytes.fetch_add(
                gst_buffer_list_calculate_size(GST_PAD_PROBE_INFO_BUFFER_LIST(info)),
                std::memory_order_relaxed);
        return GST_PAD_PROBE_OK;
    }
    static void release(gpointer data) noexcept
    {
        delete static_cast<std::shared_ptr<RoomTap> *>(data);
    }
    double seconds() const
    {
        const gint64 first = firstUs.load(std::memory_order_relaxed);
        const gint64 last = lastUs.load(std::memory_order_relaxed);
        return first && last > first ? static_cast<double>(last - first) / G_USEC_PER_SEC : 0.0;
    }
    // What the output wrote (its file, or its HLS folder) or sent (a stream) so far.
    uint64_t written(const RoomScope &r) const
    {
        return r.path.empty()  ? bytes.load()
            : r.hlsDir.empty() ? fileSize(r.path)
                               : folderSize(r.hlsDir);
    }
};

RoomMixer *RoomOutputs::ensureMixer(
    const std::map<std::string, std::string> &params, std::string &key, std::string &error)
{
    RoomMixer::Settings ms;
    ms.room = settings_.room;
    ms.width = intParam(params, "width", 1280);
    ms.height = intParam(params, "height", 720);
    ms.fps = intParam(params, "framerate", 30);
    key = std::to_string(ms.width) + "x" + std::to_string(ms.height) + "@" + std::to_string(ms.fps);
    if (auto it = mixers_.find(key); it != mixers_.end())
        return it->second.get();
    RoomMixer::Callbacks cb;
    cb.outputEos = [ref = self_.ref()](GstElement *bin) {
        if (RoomOutputs *self = ref.lock())
            self->onRoomOutputEos(bin);
    };
    cb.outputError = [ref = self_.ref()](GstElement *bin, const BusProblem &problem) {
        if (RoomOutputs *self = ref.lock())
            self->onRoomOutputError(bin, problem);
    };
    cb.failed = [ref = self_.ref(), key](const std::string &message) {
        if (RoomOutputs *self = ref.lock())
            self->onMixerFailed(key, message);
    };
    auto mixer = std::make_unique<RoomMixer>(context_, ms, std::move(cb));
    if (!mixer->start(error))
        return nullptr;
    RoomMixer *raw = mixer.get();
    mixers_[key] = std::move(mixer);
    // Everyone already here, in join order (receiver serials grow with time).
    for (const ReceiverRef &rr : room_.receivers()) {
        if (rr.receiver->finishing())
            continue;
        auto feed = raw->addParticipant(rr.peerId);
        feeds_[key][rr.serial] = feed;
        rr.receiver->addMixFeed(std::move(feed));
    }
    return raw;
}

void RoomOutputs::onMixerFailed(const std::string &key, const std::string &message)
{
    log_.error("composite %s failed: %s", key.c_str(), message.c_str());
    const double now = manifest_.offsetOf(std::chrono::system_clock::now());
    for (auto &o : outputs_)
        if (RoomScope *r = o->room(); r && r->mixerKey == key && o->life.live()) {
            r->bin.reset();
            manifest_.gapEnded("", o->id, Manifest::GapCause::DiskFull, now);
            completeOutput(*o, "the room composite failed: " + message);
        }
}

void RoomOutputs::receiverAdded(unsigned serial, const std::string &peerId, PeerReceiver &receiver)
{
    // Into every room composite, in join order.
    for (auto &[key, mixer] : mixers_) {
        auto feed = mixer->addParticipant(peerId);
        feeds_[key][serial] = feed;
        receiver.addMixFeed(std::move(feed));
    }
    // The first participant starts the composites waiting for one (a new
    // mixer takes every receiver, this one included).
    hadParticipant_ = true;
    startAwaitingRoomOutputs();
}

bool RoomOutputs::startRoomOutput(Output &o, std::string &error)
{
    RoomMixer *mixer = ensureMixer(o.params, o.room()->mixerKey, error);
    if (!mixer)
        return false;
    return buildRoomInstance(o, error);
}

void RoomOutputs::startAwaitingRoomOutputs()
{
    for (auto &o : outputs_) {
        RoomScope *r = o->room();
        if (!r || !r->awaitingParticipant)
            continue;
        r->awaitingParticipant = false;
        if (!o->life.live() || o->life.finishing())
            continue;
        std::string why;
        if (!startRoomOutput(*o, why)) {
            log_.error("output %s (template %s) cannot start: %s", o->id.c_str(),
                o->tpl.name.c_str(), why.c_str());
            completeOutput(*o, why);
        }
    }
}

bool RoomOutputs::buildRoomInstance(Output &o, std::string &error)
{
    RoomScope &r = *o.room();
    auto mixerIt = mixers_.find(r.mixerKey);
    if (mixerIt == mixers_.end()) {
        error = "no composite";
        return false;
    }
    TemplateVariables vars { settings_.room, "", sessionStamp(settings_.sessionStart),
        settings_.recordingsDir, {} };
    // One file per output for the whole session (a retried stream writes none).
    if (r.path.empty() && !o.tpl.extension.empty())
        r.path = layout_.roomFile(o.tpl.name, o.tpl.extension);
    auto instance = instantiateTemplate(o.tpl, vars, o.params, r.path, layout_.sessionDir(), error);
    if (!instance)
        return false;
    if (!instance->hlsDir.empty()) {
        r.hlsDir = instance->hlsDir;
        r.path = instance->hlsDir + "/playlist.m3u8";
    }
    // A snapshot template: <session>/<output id>/latest.jpg.
    SnapshotTarget snap {
        (std::filesystem::path(layout_.sessionDir()) / sanitizeFileComponent(o.id)).string(),
        snapshotKeep(o.params), {}
    };
    if (!attachSnapshotWriter(instance->bin.get(), snap, error))
        return false;
    if (!snap.latest.empty())
        r.snapshotLatest = snap.latest;
    auto tap = std::make_shared<RoomTap>();
    tap->context = context_;
    tap->owner = self_.ref();
    tap->outputId = o.id;
    GstElement *bin = instance->bin.get();
    GPtr<GstPad> entry
        = adopt(gst_element_get_static_pad(bin, instance->hasVideo ? "video" : "audio"));
    if (entry)
        gst_pad_add_probe(entry.get(), GST_PAD_PROBE_TYPE_BUFFER, RoomTap::entryProbe,
            new std::shared_ptr<RoomTap>(tap), RoomTap::release);
    for (const auto &p : o.tpl.params) {
        if (p.kind != TemplateParamKind::url)
            continue;
        GPtr<GstElement> sink = adopt(gst_bin_get_by_name(GST_BIN(bin), p.setElement.c_str()));
        GPtr<GstPad> pad = sink ? adopt(gst_element_get_static_pad(sink.get(), "sink")) : nullptr;
        if (pad)
            gst_pad_add_probe(pad.get(),
                static_cast<GstPadProbeType>(
                    GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                RoomTap::bytesProbe, new std::shared_ptr<RoomTap>(tap), RoomTap::release);
    }
    if (!mixerIt->second->addOutput(bin, error))
        return false;
    if (r.tap) // keep the bytes sent by earlier instances of a retried stream
        tap->bytes.fetch_add(r.tap->bytes.load());
    r.tap = tap;
    r.bin = std::move(instance->bin);
    r.retry.backoff.started();
    pauseRoomInstance(o); // a retry while paused stays paused
    return true;
}

void RoomOutputs::onRoomOutputStarted(
    const std::string &id, std::chrono::system_clock::time_point at)
{
    Output *o = findOutput(id);
    // No bin: the instance whose first buffer this was failed before this call got here.
    if (!o || o->life.ended() || !o->room() || !o->room()->bin)
        return;
    RoomScope &r = *o->room();
    const bool first = !o->startedAt;
    instanceStarted(*o, "", at);
    if (!r.path.empty() && r.manifestPath.empty()) {
        // The first part, or a new one after a disk fault.
        r.manifestPath = layout_.relativeToSession(r.path);
        manifest_.fileStarted("", r.manifestPath, o->tpl.name, "", "", manifest_.offsetOf(at));
        log_.info("%s started (%s)", r.path.c_str(), o->id.c_str());
    } else if (r.path.empty() && first) {
        log_.info("output %s streaming to %s", o->id.c_str(), o->redactedUrl.c_str());
    }
}

void RoomOutputs::finishRoomOutput(Output &o)
{
    RoomScope &r = *o.room();
    auto mixerIt = mixers_.find(r.mixerKey);
    if (!r.bin || mixerIt == mixers_.end()) {
        // Retrying (no instance now) or never built: nothing to close. Stopped while its disk
        // was full: the gap ends with the output.
        manifest_.gapEnded("", o.id, Manifest::GapCause::DiskFull,
            manifest_.offsetOf(std::chrono::system_clock::now()));
        closeRoomInstance(o);
        completeOutput(o);
        return;
    }
    mixerIt->second->finishOutput(r.bin.get());
    r.stopTimer = addTimeout(
        context_, settings_.finalizeTimeout, [ref = self_.ref(), id = o.id, context = context_] {
            ref.post(context, [id](RoomOutputs &self) {
                Output *o = self.findOutput(id);
                if (!o || o->life.ended())
                    return;
                self.log_.warn("output %s did not finish within %lld ms; closing it as it is",
                    id.c_str(), static_cast<long long>(self.settings_.finalizeTimeout.count()));
                self.closeRoomInstance(*o);
                self.completeOutput(*o);
            });
            return false;
        });
}

void RoomOutputs::closeRoomInstance(Output &o)
{
    RoomScope &r = *o.room();
    if (r.bin) {
        if (auto it = mixers_.find(r.mixerKey); it != mixers_.end())
            it->second->removeOutput(r.bin.get());
        r.bin.reset();
    }
    if (r.tap) {
        r.finalDuration = r.tap->seconds();
        r.finalBytes = r.tap->written(r);
    }
}

void RoomOutputs::onRoomOutputEos(GstElement *bin)
{
    for (auto &o : outputs_) {
        RoomScope *r = o->room();
        if (!r || r->bin.get() != bin || o->life.ended())
            continue;
        closeRoomInstance(*o);
        completeOutput(*o);
        return;
    }
}

void RoomOutputs::onRoomOutputError(GstElement *bin, const BusProblem &problem)
{
    const bool known = std::any_of(outputs_.begin(), outputs_.end(), [bin](const auto &op) {
        const RoomScope *r = op->room();
        return r && r->bin.get() == bin;
    });
    if (!known) {
        if (foreignBinError_)
            foreignBinError_(bin, problem.describe());
        return;
    }
    for (auto &op : outputs_) {
        Output &o = *op;
        RoomScope *r = o.room();
        if (!r || r->bin.get() != bin || o.life.ended())
            continue;
        // A sink that could not write its file (or HLS folder) is a disk fault, classified as
        // for a participant's; a network sink's write error is its server's.
        const OutputFault fault
            = r->path.empty() ? OutputFault::other : classifyOutputError(problem);
        const bool disk = fault != OutputFault::other;
        const std::string reason = describeOutputFault(fault, r->path, problem.describe());
        const bool retry = (disk || isNetwork(o.tpl)) && !o.life.finishing() && !closing();
        // An HLS folder is one live window: its next instance writes on into the same playlist.
        const bool newPart = disk && r->hlsDir.empty();
        log_.warn("output %s (template %s%s%s) failed: %s%s", o.id.c_str(), o.tpl.name.c_str(),
            o.redactedUrl.empty() ? "" : ", ", o.redactedUrl.c_str(), reason.c_str(),
            !retry        ? ""
                : newPart ? "; retrying as a new part"
                          : "; retrying");
        // Out of the composite alone (set to NULL: its sink closes the file); the mixer and the
        // room's other outputs run on.
        closeRoomInstance(o);
        if (!retry) {
            completeOutput(o, reason);
            return;
        }
        if (newPart) {
            // What was written stays, as a part of its own (a fragmented MP4 plays up to its
            // last whole fragment); the next instance writes a fresh file (<template>-2.<ext>).
            closePart({ r->path, "", r->finalDuration, r->finalBytes }, !r->manifestPath.empty(),
                r->parts);
            r->path.clear();
            r->manifestPath.clear();
            r->tap.reset();
            r->finalDuration = 0;
            r->finalBytes = 0;
        }
        retryFailedInstance(o, r->retry, fault, "", reason,
            [id = o.id](RoomOutputs &self) { self.retryRoomOutput(id); });
        return;
    }
}

void RoomOutputs::retryRoomOutput(const std::string &id)
{
    Output *o = findOutput(id);
    if (!o || !o->room() || !o->life.live() || o->life.finishing() || closing() || o->room()->bin)
        return;
    auto again = [id](RoomOutputs &self) { self.retryRoomOutput(id); };
    if (awaitDiskRoom(*o, o->room()->retry, "", again))
        return;
    std::string error;
    if (!buildRoomInstance(*o, error)) {
        log_.warn("output %s: rebuilding failed: %s", id.c_str(), error.c_str());
        scheduleRetry(*o, o->room()->retry, again);
        return;
    }
    ++o->restarts;
    log_.info("output %s restarted (%u)", id.c_str(), o->restarts);
    if (events_.outputRestarted)
        events_.outputRestarted(infoOf(*o));
}

RoomMixer *RoomOutputs::acquireLiveComposite(std::string &error)
{
    if (closing()) {
        error = "the room is closing";
        return nullptr;
    }
    RoomMixer *mixer = ensureMixer({}, liveKey_, error);
    liveView_ = mixer != nullptr;
    return mixer;
}

void RoomOutputs::releaseLiveComposite()
{
    if (!liveView_)
        return;
    liveView_ = false;
    releaseMixerIfUnused(liveKey_);
}

void RoomOutputs::releaseMixerIfUnused(const std::string &key)
{
    if (closing())
        return; // endAll stops them all
    if (liveView_ && key == liveKey_)
        return; // the WHEP live view still watches it
    for (const auto &o : outputs_)
        if (const RoomScope *r = o->room(); r && r->mixerKey == key && o->life.live())
            return;
    auto it = mixers_.find(key);
    if (it == mixers_.end())
        return;
    log_.info("composite %s no longer needed", key.c_str());
    it->second->stop();
    // Nobody watches this composite any more: stop decoding for it (a later
    // room output creates a new composite and new branches).
    std::map<unsigned, PeerReceiver *> bySerial;
    for (const ReceiverRef &rr : room_.receivers())
        bySerial[rr.serial] = rr.receiver;
    for (const auto &[serial, weakFeed] : feeds_[key]) {
        auto feed = weakFeed.lock();
        if (auto r = bySerial.find(serial); feed && r != bySerial.end())
            r->second->removeMixFeed(feed.get());
    }
    feeds_.erase(key);
    releaseLater(context_, std::move(it->second));
    mixers_.erase(it);
}

void RoomOutputs::roomFileInfo(const Output &o, OutputInfo &info) const
{
    const RoomScope &r = *o.room();
    info.files = r.parts;
    if (!r.snapshotLatest.empty())
        info.snapshots.push_back({ "", r.snapshotLatest });
    if (r.path.empty() && !r.tap)
        return;
    OutputFile f;
    f.path = r.path;
    if (o.life.ended()) {
        f.durationSeconds = r.finalDuration;
        f.bytes = r.finalBytes;
    } else if (r.tap) {
        f.durationSeconds = r.tap->seconds();
        f.bytes = r.tap->written(r);
    }
    if (!r.path.empty() || o.startedAt)
        info.files.push_back(f);
}

} // namespace rc::gateway
