// One room's composite: grid of decoded participants + mixed audio, fed to room-scope outputs.
#include "gateway/composite/room_mixer.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/gst/bus_message.h"
#include "common/gst/gst_helpers.h"

#include <algorithm>
#include <atomic>

namespace rc::gateway {
namespace {

constexpr const char *kAudioCaps
    = "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2";
// Dark grey (ARGB) for a participant without a picture.
constexpr guint kTileColour = 0xff303030;

GstElement *make(const char *factory, const std::string &name, std::string &error)
{
    return makeElement(factory, name.empty() ? nullptr : name.c_str(), error);
}

GPtr<GstCaps> capsFrom(const std::string &text)
{
    return adopt(gst_caps_from_string(text.c_str()));
}

void setCaps(GstElement *capsfilter, const std::string &text)
{
    GPtr<GstCaps> caps = capsFrom(text);
    g_object_set(capsfilter, "caps", caps.get(), nullptr);
}

} // namespace

struct RoomMixer::Branch
{
    std::shared_ptr<MixLane> lane;
    std::vector<GPtr<GstElement>> elements; // in our pipeline, appsrc first; empty until built
    GPtr<GstPad> aggregatorPad; // compositor's or audiomixer's request pad
    int width = 0, height = 0; // video: display size of the last caps; 0 before the first frame
};

struct RoomMixer::Participant
{
    std::string id;
    std::shared_ptr<MixFeed> feed;
    GPtr<GstElement> tileSource, tileFilter;
    GPtr<GstPad> tilePad;
    std::unique_ptr<Branch> video, audio;
};

struct RoomMixer::Trampolines
{
    static gboolean busMessage(GstBus *, GstMessage *message, gpointer data) noexcept
    {
        // The watch is destroyed with the mixer, on this same context. The
        // handler may destroy the mixer (through a callback) and then returns
        // at once; GLib keeps the source alive until this dispatch ends.
        try {
            static_cast<RoomMixer *>(data)->onBusMessage(message);
        } catch (...) { }
        return G_SOURCE_CONTINUE;
    }
};

RequiredElements RoomMixer::requiredElements()
{
    const char *package = "gst-plugins-base/good (room composite)";
    RequiredElements list { { "compositor", package }, { "audiomixer", package },
        { "videotestsrc", package }, { "audiotestsrc", package }, { "capsfilter", package },
        { "tee", package }, { "queue", package }, { "appsrc", package } };
    addRequired(list, MixFeed::requiredElements());
    return list;
}

RoomMixer::RoomMixer(GMainContext *context, Settings settings, Callbacks callbacks)
    : context_(context)
    , settings_(std::move(settings))
    , callbacks_(std::move(callbacks))
    , log_(rc::log::Logger("gateway").child("room " + settings_.room))
{ }

RoomMixer::~RoomMixer()
{
    self_.invalidate();
    stop();
}

bool RoomMixer::start(std::string &error)
{
    if (pipeline_) {
        error = "the room mixer is already running";
        return false;
    }
    if (settings_.width <= 0 || settings_.height <= 0 || settings_.fps <= 0) {
        error = "invalid composite size or frame rate";
        return false;
    }
    GPtr<GstElement> pipeline = refSink(gst_pipeline_new(("mixer-" + settings_.room).c_str()));
    const std::string videoCaps = "video/x-raw,format=I420,width=" + std::to_string(settings_.width)
        + ",height=" + std::to_string(settings_.height)
        + ",framerate=" + std::to_string(settings_.fps) + "/1,pixel-aspect-ratio=1/1";

    struct Spec
    {
        const char *factory;
        const char *name;
    };
    const Spec specs[] = { { "videotestsrc", "background" }, { "capsfilter", "background-caps" },
        { "compositor", "compositor" }, { "capsfilter", "video-caps" }, { "tee", "video-tee" },
        { "audiotestsrc", "silence" }, { "capsfilter", "silence-caps" },
        { "audiomixer", "audiomixer" }, { "capsfilter", "audio-caps" }, { "tee", "audio-tee" } };
    std::vector<GstElement *> made;
    for (const Spec &s : specs) {
        GstElement *e = make(s.factory, s.name, error);
        if (!e)
            return false; // pipeline (and what was added to it) goes with its GPtr
        gst_bin_add(GST_BIN(pipeline.get()), e);
        made.push_back(e);
    }
    GstElement *background = made[0], *compositor = made[2], *silence = made[5], *mixer = made[7];
    g_object_set(background, "is-live", TRUE, nullptr);
    gst_util_set_object_arg(G_OBJECT(background), "pattern", "black");
    setCaps(made[1], videoCaps);
    gst_util_set_object_arg(G_OBJECT(compositor), "background", "black");
    setCaps(made[3], videoCaps);
    g_object_set(silence, "is-live", TRUE, "samplesperbuffer", 960, nullptr);
    gst_util_set_object_arg(G_OBJECT(silence), "wave", "silence");
    setCaps(made[6], kAudioCaps);
    setCaps(made[8], kAudioCaps);
    for (GstElement *aggregator : { compositor, mixer }) {
        // Participants' data is stamped with its arrival time: give it time to get here.
        g_object_set(aggregator, "latency",
            static_cast<guint64>(std::chrono::nanoseconds(kLatency).count()), nullptr);
        // A participant's pad without data (yet) is not waited for.
        setPropertyIfExists(aggregator, "ignore-inactive-pads", TRUE);
    }
    for (GstElement *tee : { made[4], made[9] })
        g_object_set(tee, "allow-not-linked", TRUE, nullptr);
    if (!gst_element_link_many(made[0], made[1], made[2], made[3], made[4], nullptr)
        || !gst_element_link_many(made[5], made[6], made[7], made[8], made[9], nullptr)) {
        error = "cannot link the composite's elements";
        return false;
    }
    // The background is the bottom layer, whatever the participants' pads do.
    GPtr<GstPad> backgroundPad
        = adopt(gst_pad_get_peer(adopt(gst_element_get_static_pad(made[1], "src")).get()));
    if (backgroundPad)
        g_object_set(backgroundPad.get(), "zorder", 0u, nullptr);
    // Forwarded EOS messages tell when each output's bin has finished.
    g_object_set(pipeline.get(), "message-forward", TRUE, nullptr);
    // Our own base time, given before the first state change: GstPipeline
    // hands the clock to the aggregators before their base time on the way
    // to PLAYING, and a live aggregator that runs in that window sees its
    // deadlines hours in the past, times out with no input and ends the
    // stream (seen: the compositor's background pad EOS at start, nothing
    // ever produced). This also keeps the timeline if the pipeline ever
    // goes through PAUSED again.
    GPtr<GstClock> clock = adopt(gst_system_clock_obtain());
    gst_pipeline_use_clock(GST_PIPELINE(pipeline.get()), clock.get());
    gst_element_set_start_time(pipeline.get(), GST_CLOCK_TIME_NONE);
    gst_element_set_base_time(pipeline.get(), gst_clock_get_time(clock.get()));

    pipeline_ = std::move(pipeline);
    compositor_ = ref(compositor);
    audiomixer_ = ref(mixer);
    videoTee_ = ref(made[4]);
    audioTee_ = ref(made[9]);
    outputs_ = std::make_unique<MixerOutputs>(context_, pipeline_.get(), videoTee_.get(),
        audioTee_.get(), serial_, log_,
        MixerOutputs::Callbacks { callbacks_.outputEos, callbacks_.outputError });

    GPtr<GstBus> bus = adopt(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
    busWatch_ = GPtr<GSource>(gst_bus_create_watch(bus.get()));
    g_source_set_callback(busWatch_.get(), G_SOURCE_FUNC(Trampolines::busMessage), this, nullptr);
    g_source_attach(busWatch_.get(), context_);

    // Participants added before start.
    for (auto &p : participants_) {
        std::string ignored;
        if (!buildTile(*p, ignored))
            log_.warn("composite tile for %s: %s", p->id.c_str(), ignored.c_str());
    }
    relayout();

    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        error = "the composite pipeline refused to start (see the log for the element)";
        stop();
        return false;
    }
    for (auto &p : participants_)
        for (auto *branch : { &p->video, &p->audio })
            if (*branch && (*branch)->elements.empty()) {
                auto lane = (*branch)->lane;
                attachLane(p->id, lane);
            }
    log_.info("composite %dx%d@%d running", settings_.width, settings_.height, settings_.fps);
    return true;
}

void RoomMixer::stop()
{
    if (!pipeline_)
        return;
    for (auto &p : participants_) {
        for (auto *branch : { &p->video, &p->audio })
            if (*branch)
                (*branch)->lane->detach();
    }
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    busWatch_.reset();
    for (auto &p : participants_) {
        p->video.reset();
        p->audio.reset();
        p->tilePad.reset();
        p->tileSource.reset();
        p->tileFilter.reset();
    }
    outputs_.reset();
    compositor_.reset();
    audiomixer_.reset();
    videoTee_.reset();
    audioTee_.reset();
    pipeline_.reset();
}

RoomMixer::Participant *RoomMixer::find(const std::string &id)
{
    for (auto &p : participants_)
        if (p->id == id)
            return p.get();
    return nullptr;
}

std::shared_ptr<MixFeed> RoomMixer::addParticipant(const std::string &id)
{
    if (Participant *existing = find(id))
        return existing->feed;
    auto p = std::make_unique<Participant>();
    p->id = id;
    p->feed = std::make_shared<MixFeed>(id, self_.ref());
    if (pipeline_) {
        std::string error;
        if (!buildTile(*p, error))
            log_.warn("composite tile for %s: %s", id.c_str(), error.c_str());
    }
    participants_.push_back(std::move(p));
    relayout();
    return participants_.back()->feed;
}

void RoomMixer::removeParticipant(const std::string &id)
{
    auto it = std::find_if(
        participants_.begin(), participants_.end(), [&id](const auto &p) { return p->id == id; });
    if (it == participants_.end())
        return;
    std::unique_ptr<Participant> p = std::move(*it);
    participants_.erase(it);
    releaseParticipantElements(*p);
    relayout();
}

void RoomMixer::releaseParticipantElements(Participant &p)
{
    releaseBranch(p.video);
    releaseBranch(p.audio);
    if (p.tilePad && compositor_)
        gst_element_release_request_pad(compositor_.get(), p.tilePad.get());
    p.tilePad.reset();
    for (auto *e : { &p.tileSource, &p.tileFilter }) {
        if (*e && pipeline_) {
            gst_element_set_state(e->get(), GST_STATE_NULL);
            gst_bin_remove(GST_BIN(pipeline_.get()), e->get());
        }
        e->reset();
    }
}

bool RoomMixer::buildTile(Participant &p, std::string &error)
{
    const std::string base = "tile-" + std::to_string(++serial_);
    GPtr<GstElement> src = refSink(make("videotestsrc", base, error));
    GPtr<GstElement> filter = src ? refSink(make("capsfilter", base + "-caps", error)) : nullptr;
    if (!src || !filter)
        return false;
    // A small solid frame, scaled up to the cell by the compositor: the tile
    // costs next to nothing, and a layout change needs no renegotiation.
    g_object_set(src.get(), "is-live", TRUE, "foreground-color", kTileColour, nullptr);
    gst_util_set_object_arg(G_OBJECT(src.get()), "pattern", "solid-color");
    setCaps(filter.get(),
        "video/x-raw,format=I420,width=16,height=16,pixel-aspect-ratio=1/1,framerate="
            + std::to_string(settings_.fps) + "/1");
    gst_bin_add_many(GST_BIN(pipeline_.get()), src.get(), filter.get(), nullptr);
    p.tileSource = std::move(src);
    p.tileFilter = std::move(filter);
    GPtr<GstPad> pad = adopt(gst_element_request_pad_simple(compositor_.get(), "sink_%u"));
    GPtr<GstPad> filterSrc = adopt(gst_element_get_static_pad(p.tileFilter.get(), "src"));
    if (!gst_element_link(p.tileSource.get(), p.tileFilter.get()) || !pad
        || gst_pad_link(filterSrc.get(), pad.get()) != GST_PAD_LINK_OK) {
        error = "cannot link a tile into the compositor";
        if (pad)
            gst_element_release_request_pad(compositor_.get(), pad.get());
        return false;
    }
    g_object_set(pad.get(), "zorder", 1u, "alpha", 1.0, nullptr);
    p.tilePad = std::move(pad);
    gst_element_sync_state_with_parent(p.tileFilter.get());
    gst_element_sync_state_with_parent(p.tileSource.get());
    return true;
}

void RoomMixer::attachLane(const std::string &participant, const std::shared_ptr<MixLane> &lane)
{
    Participant *p = find(participant);
    if (!p) {
        log_.debug("%s is not in the composite; not mixing its %s", participant.c_str(),
            mediaKindName(lane->kind));
        return;
    }
    auto &slot = lane->kind == MediaKind::video ? p->video : p->audio;
    if (slot && slot->lane != lane)
        releaseBranch(slot); // a new decode branch replaces the old one
    if (!slot) {
        slot = std::make_unique<Branch>();
        slot->lane = lane;
    }
    if (!pipeline_ || !slot->elements.empty())
        return; // built by start(), or already built
    std::string error;
    if (!buildBranch(*p, lane, error)) {
        log_.warn("cannot mix %s of %s: %s", mediaKindName(lane->kind), participant.c_str(),
            error.c_str());
        releaseBranch(slot);
    }
    relayout();
}

bool RoomMixer::buildBranch(
    Participant &p, const std::shared_ptr<MixLane> &lane, std::string &error)
{
    auto &slot = lane->kind == MediaKind::video ? p.video : p.audio;
    const bool video = lane->kind == MediaKind::video;
    const std::string base = std::string(video ? "video-" : "audio-") + std::to_string(++serial_);
    std::vector<const char *> factories = { "appsrc" };
    if (!video) {
        factories.push_back("audioconvert");
        factories.push_back("audioresample");
    }
    for (const char *f : factories) {
        GstElement *e = make(f, base + "-" + f, error);
        if (!e)
            return false;
        slot->elements.push_back(refSink(e));
        gst_bin_add(GST_BIN(pipeline_.get()), e);
    }
    GstElement *appsrc = slot->elements.front().get();
    // Live, stamped by MixLane::push with the arrival time; a short leaky
    // queue so that a slow composite drops old data rather than block.
    g_object_set(appsrc, "is-live", TRUE, "do-timestamp", FALSE, "block", FALSE, "max-buffers",
        static_cast<guint64>(video ? 3 : 25), "max-bytes", static_cast<guint64>(0), nullptr);
    gst_util_set_object_arg(G_OBJECT(appsrc), "format", "time");
    // Without explicit values a live appsrc answers a maximum latency of 0,
    // below the background sources' minimum: the aggregator then cannot
    // configure its latency at all (a warning per query, erratic timing).
    g_object_set(appsrc, "min-latency", static_cast<gint64>(0), "max-latency",
        static_cast<gint64>(-1), nullptr);
    gst_util_set_object_arg(G_OBJECT(appsrc), "leaky-type", "downstream");
    for (size_t i = 1; i < slot->elements.size(); ++i)
        if (!gst_element_link(slot->elements[i - 1].get(), slot->elements[i].get())) {
            error = "cannot link the mixing branch";
            return false;
        }
    GstElement *aggregator = video ? compositor_.get() : audiomixer_.get();
    slot->aggregatorPad = adopt(gst_element_request_pad_simple(aggregator, "sink_%u"));
    GPtr<GstPad> src = adopt(gst_element_get_static_pad(slot->elements.back().get(), "src"));
    if (!slot->aggregatorPad
        || gst_pad_link(src.get(), slot->aggregatorPad.get()) != GST_PAD_LINK_OK) {
        error = "cannot link the mixing branch into the aggregator";
        return false;
    }
    if (video)
        g_object_set(slot->aggregatorPad.get(), "zorder", 2u, "alpha", 0.0, nullptr);
    for (auto it = slot->elements.rbegin(); it != slot->elements.rend(); ++it)
        gst_element_sync_state_with_parent(it->get());

    // Weak on both ends: a late call for a lane that is gone (its address
    // possibly reused by a newer one) is dropped.
    std::weak_ptr<MixLane> weakLane = lane;
    lane->attach(
        appsrc,
        [ref = self_.ref(), weakLane, context = context_](int width, int height) {
            ref.post(context, [weakLane, width, height](RoomMixer &m) {
                if (auto l = weakLane.lock())
                    m.onVideoSize(l.get(), width, height);
            });
        },
        [ref = self_.ref(), weakLane, context = context_] {
            ref.post(context, [weakLane](RoomMixer &m) {
                if (auto l = weakLane.lock())
                    m.onLaneEnded(l.get());
            });
        });
    log_.debug("mixing %s of %s", mediaKindName(lane->kind), p.id.c_str());
    return true;
}

void RoomMixer::releaseBranch(std::unique_ptr<Branch> &branch)
{
    if (!branch)
        return;
    branch->lane->detach(); // no more pushes into our appsrc
    if (branch->aggregatorPad) {
        // Releasing flushes the pad, which also frees a push blocked in it;
        // the aggregator stops waiting for it at once.
        GstElement *aggregator
            = branch->lane->kind == MediaKind::video ? compositor_.get() : audiomixer_.get();
        if (aggregator)
            gst_element_release_request_pad(aggregator, branch->aggregatorPad.get());
    }
    for (auto &e : branch->elements) {
        gst_element_set_state(e.get(), GST_STATE_NULL);
        if (pipeline_)
            gst_bin_remove(GST_BIN(pipeline_.get()), e.get());
    }
    branch.reset();
}

void RoomMixer::onVideoSize(const MixLane *lane, int width, int height)
{
    for (auto &p : participants_)
        if (p->video && p->video->lane.get() == lane) {
            p->video->width = width;
            p->video->height = height;
            relayout();
            return;
        }
}

void RoomMixer::onLaneEnded(const MixLane *lane)
{
    for (auto &p : participants_)
        for (auto *branch : { &p->video, &p->audio })
            if (*branch && (*branch)->lane.get() == lane) {
                log_.debug("%s's %s ended", p->id.c_str(), mediaKindName(lane->kind));
                releaseBranch(*branch);
                relayout();
                return;
            }
}

std::vector<TileLayout> RoomMixer::layout() const
{
    std::vector<TileSource> sources;
    for (const auto &p : participants_) {
        TileSource s;
        if (p->video && p->video->aggregatorPad && p->video->width > 0) {
            s.width = p->video->width;
            s.height = p->video->height;
        }
        sources.push_back(s);
    }
    return computeCompositeLayout(settings_.width, settings_.height, sources);
}

void RoomMixer::relayout()
{
    const std::vector<TileLayout> tiles = layout();
    for (size_t i = 0; i < participants_.size(); ++i) {
        Participant &p = *participants_[i];
        const TileLayout &t = tiles[i];
        const bool picture = !t.video.empty();
        if (p.tilePad)
            // Hidden under a picture: the compositor skips fully transparent pads.
            g_object_set(p.tilePad.get(), "xpos", t.cell.x, "ypos", t.cell.y, "width", t.cell.width,
                "height", t.cell.height, "alpha", picture ? 0.0 : 1.0, nullptr);
        if (p.video && p.video->aggregatorPad) {
            // The decode branch scales to the picture; the compositor then only places it.
            p.video->lane->scaleTo(picture ? t.video.width : 0, picture ? t.video.height : 0);
            if (picture)
                g_object_set(p.video->aggregatorPad.get(), "xpos", t.video.x, "ypos", t.video.y,
                    "width", t.video.width, "height", t.video.height, "alpha", 1.0, nullptr);
            else
                g_object_set(p.video->aggregatorPad.get(), "alpha", 0.0, nullptr);
        }
    }
}

bool RoomMixer::addOutput(GstElement *bin, std::string &error)
{
    if (!outputs_) {
        error = "the room mixer is not running";
        return false;
    }
    return outputs_->add(bin, error);
}

void RoomMixer::removeOutput(GstElement *bin)
{
    if (outputs_)
        outputs_->remove(bin);
}

void RoomMixer::finishOutput(GstElement *bin)
{
    if (outputs_)
        outputs_->finish(bin);
}

bool RoomMixer::onBusMessage(GstMessage *message)
{
    if (!pipeline_)
        return false;
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_LATENCY:
        // An output joined or an element's latency changed: sinks must agree again.
        gst_bin_recalculate_latency(GST_BIN(pipeline_.get()));
        break;
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
        const BusProblem problem = *readBusProblem(message);
        log_.debug("%s", problem.debug.c_str());
        const bool isError = problem.isError;
        const std::string text = problem.describe();
        // Which top-level element of our pipeline it came from.
        GPtr<GstObject> top = ref(GST_MESSAGE_SRC(message));
        bool attached = top.get() == GST_OBJECT(pipeline_.get());
        while (top && !attached) {
            GPtr<GstObject> parent = adopt(gst_object_get_parent(top.get()));
            if (!parent)
                break;
            if (parent.get() == GST_OBJECT(pipeline_.get())) {
                attached = true;
                break;
            }
            top = std::move(parent);
        }
        if (!attached) {
            log_.debug("from a removed element: %s", text.c_str());
            break;
        }
        if (outputs_ && outputs_->onProblem(top.get(), problem))
            return true; // the mixer may be gone
        for (auto &p : participants_)
            for (auto *branch : { &p->video, &p->audio }) {
                if (!*branch)
                    continue;
                for (auto &e : (*branch)->elements)
                    if (top.get() == GST_OBJECT(e.get())) {
                        log_.warn("mixing %s: %s", p->id.c_str(), text.c_str());
                        if (isError) {
                            releaseBranch(*branch);
                            relayout();
                        }
                        return true;
                    }
            }
        log_.write(isError ? rc::log::Level::error : rc::log::Level::warning, "composite: %s",
            text.c_str());
        if (isError && callbacks_.failed) {
            auto cb = callbacks_.failed;
            cb(text);
        }
        break;
    }
    case GST_MESSAGE_ELEMENT: {
        GPtr<GstMessage> owned = forwardedMessage(message);
        if (!owned || GST_MESSAGE_TYPE(owned.get()) != GST_MESSAGE_EOS)
            break;
        if (outputs_ && outputs_->onForwardedEos(GST_MESSAGE_SRC(owned.get())))
            return true; // the mixer may be gone
        break;
    }
    default:
        break;
    }
    return true;
}

} // namespace rc::gateway
