// A room's outputs: both scopes started and stopped at run time, room composites, network
// retries and what the API shows of them; see room_session.h (the rest of RoomSession is in
// room_session.cpp).
#include "gateway/room/room_session.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "gateway/ops/output_params.h"
#include "gateway/templates/template_instance.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <utility>

namespace rc::gateway {
namespace {

// A network output that failed is rebuilt after 250 ms, 500 ms, 1 s, then
// every 2 s, so it resumes within a few seconds of its server coming back;
// a run of 10 s resets the backoff.
constexpr std::chrono::milliseconds kNetRetryMin { 250 };
constexpr std::chrono::milliseconds kNetRetryMax { 2000 };
constexpr gint64 kNetRetryResetUs = 10 * G_USEC_PER_SEC;

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

// First buffer and running length of a room output, from a probe on its
// entry pad (a streaming thread of the mixer's pipeline); bytes of a network
// output from a probe on the sink that takes its URL.
struct RoomSession::RoomTap
{
    GMainContext *context = nullptr;
    std::weak_ptr<RoomSession *> owner;
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
            auto at = std::chrono::system_clock::now();
            std::weak_ptr<RoomSession *> owner = tap->owner;
            std::string id = tap->outputId;
            post(tap->context, [owner, id, at] {
                if (auto s = owner.lock(); s && *s)
                    (*s)->onRoomOutputStarted(id, at);
            });
        }
        return GST_PAD_PROBE_OK;
    }
    static GstPadProbeReturn bytesProbe(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
    {
        auto *tap = static_cast<std::shared_ptr<RoomTap> *>(data)->get();
        if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
            tap->bytes.fetch_add(
                gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)), std::memory_order_relaxed);
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
};

bool RoomSession::network(const PipelineTemplate &tpl) const
{
    return std::any_of(tpl.params.begin(), tpl.params.end(),
        [](const TemplateParam &p) { return p.kind == TemplateParamKind::url; });
}

RoomSession::Output &RoomSession::createOutput(
    const PipelineTemplate &tpl, const std::map<std::string, std::string> &params)
{
    auto o = std::make_unique<Output>();
    o->id = tpl.name + "-" + std::to_string(++outputSerials_[tpl.name]);
    o->tpl = tpl;
    o->params = params;
    for (const auto &p : tpl.params)
        if (p.kind == TemplateParamKind::url)
            if (auto it = params.find(p.name); it != params.end())
                o->redactedUrl = rc::ops::redactUrl(it->second);
    outputs_.push_back(std::move(o));
    RC_LOG_INFO("gateway: room %s: output %s: template %s (%s scope)%s%s", settings_.room.c_str(),
        outputs_.back()->id.c_str(), tpl.name.c_str(), scopeName(tpl.scope),
        outputs_.back()->redactedUrl.empty() ? "" : " to ", outputs_.back()->redactedUrl.c_str());
    return *outputs_.back();
}

RoomSession::Output *RoomSession::findOutput(const std::string &id)
{
    for (auto &o : outputs_)
        if (o->id == id)
            return o.get();
    return nullptr;
}

const RoomSession::Output *RoomSession::findOutput(const std::string &id) const
{
    for (const auto &o : outputs_)
        if (o->id == id)
            return o.get();
    return nullptr;
}

std::unique_ptr<ParticipantOutput> RoomSession::makeParticipantInstance(
    const Output &o, const std::string &peerId, std::string &error)
{
    TemplateVariables vars { settings_.room, peerId, sessionStamp(settings_.sessionStart),
        settings_.recordingsDir, {} };
    std::string path;
    if (!o.tpl.extension.empty())
        path = layout_.participantFile(peerId, o.tpl.extension);
    auto output = ParticipantOutput::create(context_, o.tpl, vars, o.params, path, error);
    if (output)
        output->setOutputId(o.id);
    return output;
}

RoomMixer *RoomSession::ensureMixer(
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
    std::weak_ptr<RoomSession *> weak = self_;
    RoomMixer::Callbacks cb;
    cb.outputEos = [weak](GstElement *bin) {
        if (auto s = weak.lock(); s && *s)
            (*s)->onRoomOutputEos(bin);
    };
    cb.outputError = [weak](GstElement *bin, const std::string &message) {
        if (auto s = weak.lock(); s && *s)
            (*s)->onRoomOutputError(bin, message);
    };
    cb.failed = [weak, key](const std::string &message) {
        auto s = weak.lock();
        if (!s || !*s)
            return;
        RoomSession *self = *s;
        RC_LOG_ERROR("gateway: room %s: composite %s failed: %s", self->settings_.room.c_str(),
            key.c_str(), message.c_str());
        for (auto &o : self->outputs_)
            if (o->mixerKey == key && !o->ended) {
                o->bin.reset();
                self->completeOutput(*o, "the room composite failed: " + message);
            }
    };
    auto mixer = std::make_unique<RoomMixer>(context_, ms, std::move(cb));
    if (!mixer->start(error))
        return nullptr;
    RoomMixer *raw = mixer.get();
    mixers_[key] = std::move(mixer);
    // Everyone already here, in join order (receiver serials grow with time).
    for (auto &[serial, r] : receivers_) {
        if (r.receiver->finishing())
            continue;
        auto feed = raw->addParticipant(r.peerId);
        feeds_[key][serial] = feed;
        r.receiver->addMixFeed(std::move(feed));
    }
    return raw;
}

bool RoomSession::startRoomOutput(Output &o, std::string &error)
{
    RoomMixer *mixer = ensureMixer(o.params, o.mixerKey, error);
    if (!mixer)
        return false;
    return buildRoomInstance(o, error);
}

void RoomSession::startAwaitingRoomOutputs()
{
    for (auto &o : outputs_) {
        if (!o->awaitingParticipant)
            continue;
        o->awaitingParticipant = false;
        if (o->ended || o->stopping)
            continue;
        std::string why;
        if (!startRoomOutput(*o, why)) {
            RC_LOG_ERROR("gateway: room %s: output %s (template %s) cannot start: %s",
                settings_.room.c_str(), o->id.c_str(), o->tpl.name.c_str(), why.c_str());
            completeOutput(*o, why);
        }
    }
}

bool RoomSession::buildRoomInstance(Output &o, std::string &error)
{
    auto mixerIt = mixers_.find(o.mixerKey);
    if (mixerIt == mixers_.end()) {
        error = "no composite";
        return false;
    }
    TemplateVariables vars { settings_.room, "", sessionStamp(settings_.sessionStart),
        settings_.recordingsDir, {} };
    // One file per output for the whole session (a retried stream writes none).
    if (o.path.empty() && !o.tpl.extension.empty())
        o.path = layout_.roomFile(o.tpl.name, o.tpl.extension);
    auto instance = instantiateTemplate(o.tpl, vars, o.params, o.path, layout_.sessionDir(), error);
    if (!instance)
        return false;
    if (!instance->hlsDir.empty()) {
        o.hlsDir = instance->hlsDir;
        o.path = instance->hlsDir + "/playlist.m3u8";
    }
    auto tap = std::make_shared<RoomTap>();
    tap->context = context_;
    tap->owner = self_;
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
            gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, RoomTap::bytesProbe,
                new std::shared_ptr<RoomTap>(tap), RoomTap::release);
    }
    if (!mixerIt->second->addOutput(bin, error))
        return false;
    if (o.tap) // keep the bytes sent by earlier instances of a retried stream
        tap->bytes.fetch_add(o.tap->bytes.load());
    o.tap = tap;
    o.bin = std::move(instance->bin);
    o.roomRetry.startedUs = g_get_monotonic_time();
    return true;
}

void RoomSession::onRoomOutputStarted(
    const std::string &id, std::chrono::system_clock::time_point at)
{
    Output *o = findOutput(id);
    if (!o || o->ended)
        return;
    if (o->state == "starting" || o->state == "retrying")
        o->state = "running";
    if (o->startedAt)
        return;
    o->startedAt = at;
    if (!o->path.empty()) {
        o->manifestPath = layout_.relativeToSession(o->path);
        manifest_.fileStarted("", o->manifestPath, o->tpl.name, "", "", manifest_.offsetOf(at));
        RC_LOG_INFO("gateway: room %s: %s started (%s)", settings_.room.c_str(), o->path.c_str(),
            o->id.c_str());
    } else {
        RC_LOG_INFO("gateway: room %s: output %s streaming to %s", settings_.room.c_str(),
            o->id.c_str(), o->redactedUrl.c_str());
    }
    if (events_.outputStarted)
        events_.outputStarted(infoOf(*o));
}

void RoomSession::finishRoomOutput(Output &o)
{
    auto mixerIt = mixers_.find(o.mixerKey);
    if (!o.bin || mixerIt == mixers_.end()) {
        // Retrying (no instance now) or never built: nothing to close.
        closeRoomInstance(o);
        completeOutput(o);
        return;
    }
    mixerIt->second->finishOutput(o.bin.get());
    std::weak_ptr<RoomSession *> weak = self_;
    const std::string id = o.id;
    GMainContext *context = context_;
    o.stopTimer = addTimeout(context_, settings_.receiver.finalizeTimeout, [weak, id, context] {
        post(context, [weak, id] {
            auto s = weak.lock();
            if (!s || !*s)
                return;
            RoomSession *self = *s;
            Output *o = self->findOutput(id);
            if (!o || o->ended)
                return;
            RC_LOG_WARN("gateway: room %s: output %s did not finish within %lld ms; closing it as "
                        "it is",
                self->settings_.room.c_str(), id.c_str(),
                static_cast<long long>(self->settings_.receiver.finalizeTimeout.count()));
            self->closeRoomInstance(*o);
            self->completeOutput(*o);
        });
        return false;
    });
}

void RoomSession::closeRoomInstance(Output &o)
{
    if (o.bin) {
        if (auto it = mixers_.find(o.mixerKey); it != mixers_.end())
            it->second->removeOutput(o.bin.get());
        o.bin.reset();
    }
    if (o.tap) {
        o.finalDuration = o.tap->seconds();
        o.finalBytes = o.path.empty() ? o.tap->bytes.load()
            : o.hlsDir.empty()        ? fileSize(o.path)
                                      : folderSize(o.hlsDir);
    }
}

void RoomSession::onRoomOutputEos(GstElement *bin)
{
    for (auto &o : outputs_) {
        if (o->bin.get() != bin || o->ended)
            continue;
        closeRoomInstance(*o);
        completeOutput(*o);
        return;
    }
}

void RoomSession::onRoomOutputError(GstElement *bin, const std::string &message)
{
    for (auto &op : outputs_) {
        Output &o = *op;
        if (o.bin.get() != bin || o.ended)
            continue;
        const bool retry = network(o.tpl) && !o.stopping && !stopping_;
        RC_LOG_WARN("gateway: room %s: output %s (template %s%s%s) failed: %s%s",
            settings_.room.c_str(), o.id.c_str(), o.tpl.name.c_str(),
            o.redactedUrl.empty() ? "" : ", ", o.redactedUrl.c_str(), message.c_str(),
            retry ? "; retrying" : "");
        if (auto it = mixers_.find(o.mixerKey); it != mixers_.end())
            it->second->removeOutput(bin);
        o.bin.reset();
        if (!retry) {
            closeRoomInstance(o);
            completeOutput(o, message);
            return;
        }
        o.state = "retrying";
        const std::string id = o.id;
        scheduleRetry(o, o.roomRetry, [this, id] { retryRoomOutput(id); });
        return;
    }
}

void RoomSession::retryRoomOutput(const std::string &id)
{
    Output *out = findOutput(id);
    if (!out || out->ended || out->stopping || stopping_ || out->bin)
        return;
    std::string error;
    if (!buildRoomInstance(*out, error)) {
        RC_LOG_WARN("gateway: room %s: output %s: rebuilding failed: %s", settings_.room.c_str(),
            id.c_str(), error.c_str());
        scheduleRetry(*out, out->roomRetry, [this, id] { retryRoomOutput(id); });
        return;
    }
    ++out->restarts;
    RC_LOG_INFO("gateway: room %s: output %s restarted (%u)", settings_.room.c_str(), id.c_str(),
        out->restarts);
    if (events_.outputRestarted)
        events_.outputRestarted(infoOf(*out));
}

void RoomSession::scheduleRetry(Output &o, Retry &retry, std::function<void()> rebuild)
{
    if (retry.startedUs && g_get_monotonic_time() - retry.startedUs >= kNetRetryResetUs)
        retry.failures = 0;
    auto delay = std::min(kNetRetryMax, kNetRetryMin * (1u << std::min(retry.failures, 4u)));
    ++retry.failures;
    RC_LOG_INFO("gateway: room %s: output %s: retrying in %lld ms", settings_.room.c_str(),
        o.id.c_str(), static_cast<long long>(delay.count()));
    std::weak_ptr<RoomSession *> weak = self_;
    GMainContext *context = context_;
    retry.timer = addTimeout(context_, delay, [weak, context, rebuild] {
        // Run from a later dispatch: rebuild may replace this very timer.
        post(context, [weak, rebuild] {
            if (auto s = weak.lock(); s && *s)
                rebuild();
        });
        return false;
    });
}

void RoomSession::onParticipantOutputError(
    unsigned serial, ParticipantOutput &out, const std::string &message)
{
    Output *o = findOutput(out.outputId());
    if (!o || o->ended)
        return;
    if (o->stopping || stopping_) {
        RC_LOG_WARN("gateway: room %s: output %s failed while closing: %s", settings_.room.c_str(),
            o->id.c_str(), message.c_str());
        return;
    }
    if (out.disabled()) {
        // It had nothing to send (the participant's codec is not one it takes).
        RC_LOG_INFO("gateway: room %s: output %s: not retrying for a participant it cannot take",
            settings_.room.c_str(), o->id.c_str());
        return;
    }
    o->state = "retrying";
    if (out.started())
        o->files.push_back({ "",
            [&] {
                auto it = receivers_.find(serial);
                return it == receivers_.end() ? std::string() : it->second.peerId;
            }(),
            out.durationSeconds(), out.bytesIn() });
    const std::string id = o->id;
    Retry &retry = o->retries[serial];
    scheduleRetry(*o, retry, [this, id, serial] {
        Output *o2 = findOutput(id);
        auto it = receivers_.find(serial);
        if (!o2 || o2->ended || o2->stopping || stopping_ || it == receivers_.end()
            || it->second.receiver->finishing())
            return;
        std::string error;
        auto instance = makeParticipantInstance(*o2, it->second.peerId, error);
        if (!instance || !it->second.receiver->addOutput(std::move(instance), error)) {
            RC_LOG_WARN("gateway: room %s: output %s for %s: rebuilding failed: %s",
                settings_.room.c_str(), id.c_str(), it->second.peerId.c_str(), error.c_str());
            return;
        }
        o2->retries[serial].startedUs = g_get_monotonic_time();
        ++o2->restarts;
        RC_LOG_INFO("gateway: room %s: output %s for %s restarted (%u)", settings_.room.c_str(),
            id.c_str(), it->second.peerId.c_str(), o2->restarts);
        if (events_.outputRestarted)
            events_.outputRestarted(infoOf(*o2));
    });
}

void RoomSession::completeOutput(Output &o, const std::string &failure)
{
    if (o.ended)
        return;
    o.ended = true;
    o.stopTimer.reset();
    o.roomRetry.timer.reset();
    o.retries.clear();
    if (o.tpl.scope == TemplateScope::room && o.startedAt && !o.manifestPath.empty())
        manifest_.fileFinished(o.manifestPath, o.finalDuration, o.finalBytes);
    if (!failure.empty() && !o.stopping) {
        o.state = "failed";
        o.failure = failure;
    } else {
        o.state = "finished";
    }
    OutputInfo info = infoOf(o);
    RC_LOG_INFO(
        "gateway: room %s: output %s %s", settings_.room.c_str(), o.id.c_str(), o.state.c_str());
    if (o.state == "failed") {
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
    if (o.tpl.scope == TemplateScope::room)
        releaseMixerIfUnused(o.mixerKey);
    checkStopped();
}

void RoomSession::releaseMixerIfUnused(const std::string &key)
{
    if (stopping_)
        return; // checkStopped stops them all
    for (const auto &o : outputs_)
        if (o->mixerKey == key && !o->ended)
            return;
    auto it = mixers_.find(key);
    if (it == mixers_.end())
        return;
    RC_LOG_INFO(
        "gateway: room %s: composite %s no longer needed", settings_.room.c_str(), key.c_str());
    it->second->stop();
    // Nobody watches this composite any more: stop decoding for it (a later
    // room output creates a new composite and new branches).
    for (const auto &[serial, weakFeed] : feeds_[key]) {
        auto feed = weakFeed.lock();
        if (auto r = receivers_.find(serial); feed && r != receivers_.end())
            r->second.receiver->removeMixFeed(feed.get());
    }
    feeds_.erase(key);
    auto doomed = std::make_shared<std::unique_ptr<RoomMixer>>(std::move(it->second));
    mixers_.erase(it);
    post(context_, [doomed] { doomed->reset(); });
}

OutputInfo RoomSession::infoOf(const Output &o) const
{
    OutputInfo info;
    info.id = o.id;
    info.templateName = o.tpl.name;
    info.scope = o.tpl.scope;
    info.state = o.state;
    info.url = o.redactedUrl;
    info.startedAt = o.startedAt;
    info.failure = o.failure;
    info.restarts = o.restarts;
    info.manifestPath = layout_.manifestPath();
    if (o.tpl.scope == TemplateScope::room) {
        if (!o.path.empty() || o.tap) {
            OutputFile f;
            f.path = o.path;
            if (o.ended) {
                f.durationSeconds = o.finalDuration;
                f.bytes = o.finalBytes;
            } else if (o.tap) {
                f.durationSeconds = o.tap->seconds();
                f.bytes = o.path.empty() ? o.tap->bytes.load()
                    : o.hlsDir.empty()   ? fileSize(o.path)
                                         : folderSize(o.hlsDir);
            }
            if (!o.path.empty() || o.startedAt)
                info.files.push_back(f);
        }
    } else {
        info.files = o.files;
        for (const auto &[serial, r] : receivers_)
            for (const auto &out : r.receiver->outputs())
                if (out->outputId() == o.id && out->started())
                    info.files.push_back({ out->outputPath(), r.peerId, out->durationSeconds(),
                        out->outputPath().empty() ? out->bytesIn() : out->fileBytes() });
    }
    for (const auto &f : info.files)
        info.bytes += f.bytes;
    return info;
}

std::vector<OutputInfo> RoomSession::outputs() const
{
    std::vector<OutputInfo> running, ended;
    for (const auto &o : outputs_)
        (o->ended ? ended : running).push_back(infoOf(*o));
    running.insert(running.end(), ended.begin(), ended.end());
    return running;
}

std::optional<OutputInfo> RoomSession::output(const std::string &id) const
{
    if (const Output *o = findOutput(id))
        return infoOf(*o);
    return std::nullopt;
}

ParticipantInfo RoomSession::participantInfo(const std::string &id) const
{
    ParticipantInfo info;
    info.id = id;
    if (auto it = members_.find(id); it != members_.end()) {
        info.name = it->second.name;
        info.joinedAt = it->second.joinedAt;
    }
    for (const auto &[serial, r] : receivers_) {
        if (r.peerId != id || !r.attached)
            continue;
        info.codecs = r.receiver->negotiatedCodecs();
        const auto &st = r.receiver->stats();
        info.receiveBitrateBps = st.receiveBitrateBps;
        info.packetsReceived = st.packetsReceived;
        info.packetsLost = st.packetsLost;
    }
    return info;
}

std::vector<ParticipantInfo> RoomSession::participants() const
{
    std::vector<ParticipantInfo> out;
    for (const auto &[id, member] : members_)
        out.push_back(participantInfo(id));
    return out;
}

bool RoomSession::startOutput(const PipelineTemplate &tpl,
    const std::map<std::string, std::string> &params, OutputInfo &started, std::string &errorCode,
    std::string &error)
{
    if (stopping_) {
        errorCode = "failed";
        error = "the room is closing";
        return false;
    }
    for (const auto &o : outputs_) {
        if (!o->ended && !o->stopping && o->tpl.name == tpl.name && o->params == params) {
            errorCode = "conflict";
            error = "output " + o->id + " already runs template " + tpl.name
                + " with these parameters";
            return false;
        }
    }
    Output &o = createOutput(tpl, params);
    if (tpl.scope == TemplateScope::room && !hadParticipant_) {
        // Templates were checked when loaded; what remains (a file that
        // cannot be created) is reported as output.failed when it starts.
        o.awaitingParticipant = true;
        RC_LOG_INFO("gateway: room %s: output %s starts with the first participant",
            settings_.room.c_str(), o.id.c_str());
    } else if (tpl.scope == TemplateScope::room) {
        if (!startRoomOutput(o, error)) {
            errorCode = "failed";
            RC_LOG_ERROR("gateway: room %s: output %s cannot start: %s", settings_.room.c_str(),
                o.id.c_str(), error.c_str());
            o.state = "failed";
            o.failure = error;
            o.ended = true;
            releaseMixerIfUnused(o.mixerKey);
            return false;
        }
    } else {
        // On every participant now here; startReceiver adds it to later ones.
        for (auto &[serial, r] : receivers_) {
            if (r.receiver->finishing())
                continue;
            std::string why;
            auto instance = makeParticipantInstance(o, r.peerId, why);
            if (!instance) {
                // The template itself does not instantiate: nothing will.
                errorCode = "failed";
                error = why;
                o.state = "failed";
                o.failure = why;
                o.ended = true;
                return false;
            }
            if (!r.receiver->addOutput(std::move(instance), why))
                RC_LOG_WARN("gateway: room %s: output %s for %s: %s", settings_.room.c_str(),
                    o.id.c_str(), r.peerId.c_str(), why.c_str());
        }
    }
    started = infoOf(o);
    return true;
}

void RoomSession::stopOutput(
    const std::string &id, std::function<void(std::optional<OutputInfo>)> done)
{
    Output *o = findOutput(id);
    if (!o || o->ended) {
        if (done)
            post(context_, [done] { done(std::nullopt); });
        return;
    }
    if (done)
        o->waiters.push_back(std::move(done));
    if (o->stopping)
        return;
    o->stopping = true;
    o->state = "finishing";
    o->retries.clear();
    o->roomRetry.timer.reset();
    RC_LOG_INFO("gateway: room %s: stopping output %s", settings_.room.c_str(), id.c_str());
    if (o->tpl.scope == TemplateScope::room) {
        finishRoomOutput(*o);
        return;
    }
    o->pending = 1; // held until every receiver is asked
    std::weak_ptr<RoomSession *> weak = self_;
    auto oneDone = [weak, id] {
        auto s = weak.lock();
        if (!s || !*s)
            return;
        Output *out = (*s)->findOutput(id);
        if (out && out->pending > 0 && --out->pending == 0)
            (*s)->completeOutput(*out);
    };
    for (auto &[serial, r] : receivers_) {
        ++o->pending;
        r.receiver->finishOutput(id, oneDone);
    }
    oneDone();
}

} // namespace rc::gateway
