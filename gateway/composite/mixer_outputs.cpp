// The room composite's outputs: leaky queues off the tees, guarded entries, EOS and failure per
// output; see mixer_outputs.h.
#include "gateway/composite/mixer_outputs.h"

#include "common/base/main_context.h"
#include "common/gst/gst_helpers.h"
#include "gateway/composite/blank_media.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

namespace rc::gateway {
namespace {

// An output's queue: raw video is 1.4 MB a frame at 720p, so hold at most a
// second; past that (a stalled network sink) the oldest data goes.
constexpr guint64 kOutputQueueTime = GST_SECOND;
// How long an output's error flow waits for the ERROR message that may explain it (see onFailed).
constexpr std::chrono::milliseconds kFlowErrorGrace { 250 };

} // namespace

// Shared by an output's entry pads (the streaming thread that feeds them)
// and the main context: once an entry returned an error, the output takes no more.
struct MixerOutputs::Guard
{
    std::atomic<bool> dead { false };
    // MixerOutputs::Pause, set on the main context, read by the entries' streaming threads.
    std::atomic<int> pause { 0 };
    // Per entry (0 video, 1 audio): buffers were dropped, the next one passed is a DISCONT
    // (encoders resynchronise their timestamps on it instead of stretching the last packet).
    std::atomic<bool> dropped[2] { false, false };
    unsigned output = 0; // Output::id
    GMainContext *context = nullptr; // borrowed: the gateway's
    WeakSelf<MixerOutputs>::Ref owner;

    // Streaming thread. Not every failure posts an ERROR (a not-negotiated
    // return does not): the mixer hears of it either way.
    void fail(GstFlowReturn ret) noexcept
    {
        if (dead.exchange(true, std::memory_order_acq_rel))
            return;
        try {
            std::string why = std::string("stopped taking data (") + gst_flow_get_name(ret) + ")";
            owner.post(context,
                [id = output, why = std::move(why)](MixerOutputs &o) { o.onFailed(id, why); });
        } catch (...) {
            // Out of memory: the output stays dead; its owner's timeouts apply.
        }
    }
};

namespace {

using Guard = MixerOutputs::Guard;

// Chain function of an output's ghost entry pads: the tee would pass an
// output's error (a refused RTMP connection) back to the compositor and stop
// the whole composite. Errors end here; the bus reports them per output.
// A paused output (RoomMixer::setOutputPause): a file drops what comes (its timeline keeps a
// hole), a stream gets black and silence of the same shape and times (its players go on). The
// tee shares buffers between outputs: a blank is a new buffer, a DISCONT a writable copy.
GstBuffer *applyPause(GstPad *pad, Guard &guard, GstBuffer *buffer) noexcept
{
    const auto mode = static_cast<MixerOutputs::Pause>(guard.pause.load(std::memory_order_acquire));
    const int entry = std::strcmp(GST_OBJECT_NAME(pad), "video") == 0 ? 0 : 1;
    if (mode == MixerOutputs::Pause::drop) {
        guard.dropped[entry].store(true, std::memory_order_relaxed);
        gst_buffer_unref(buffer);
        return nullptr;
    }
    if (mode == MixerOutputs::Pause::blank) {
        GPtr<GstCaps> caps = adopt(gst_pad_get_current_caps(pad));
        if (GstBuffer *blank = blankLike(buffer, caps.get())) {
            gst_buffer_unref(buffer);
            return blank;
        }
        return buffer; // not raw media: nothing to blank, passed as is
    }
    if (guard.dropped[entry].exchange(false, std::memory_order_relaxed)) {
        buffer = gst_buffer_make_writable(buffer);
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
    }
    return buffer;
}

GstFlowReturn guardedChain(GstPad *pad, GstObject *parent, GstBuffer *buffer) noexcept
{
    auto *guard = static_cast<std::shared_ptr<Guard> *>(pad->chaindata);
    if ((*guard)->dead.load(std::memory_order_acquire)) {
        gst_buffer_unref(buffer);
        return GST_FLOW_OK;
    }
    buffer = applyPause(pad, **guard, buffer);
    if (!buffer)
        return GST_FLOW_OK;
    const GstFlowReturn ret = gst_proxy_pad_chain_default(pad, parent, buffer);
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS)
        (*guard)->fail(ret);
    // EOS (after finishOutput) and FLUSHING (being removed) are as good as OK here.
    return GST_FLOW_OK;
}

GstFlowReturn guardedChainList(GstPad *pad, GstObject *parent, GstBufferList *list) noexcept
{
    auto *guard = static_cast<std::shared_ptr<Guard> *>(pad->chainlistdata);
    if ((*guard)->dead.load(std::memory_order_acquire)) {
        gst_buffer_list_unref(list);
        return GST_FLOW_OK;
    }
    if ((*guard)->pause.load(std::memory_order_acquire) != 0
        || (*guard)->dropped[0].load(std::memory_order_relaxed)
        || (*guard)->dropped[1].load(std::memory_order_relaxed)) {
        // Rare (the composite's queues push single buffers): one by one through the pause.
        GstFlowReturn last = GST_FLOW_OK;
        const guint n = gst_buffer_list_length(list);
        for (guint i = 0; i < n; ++i)
            last = guardedChain(pad, parent, gst_buffer_ref(gst_buffer_list_get(list, i)));
        gst_buffer_list_unref(list);
        return last;
    }
    const GstFlowReturn ret = gst_proxy_pad_chain_list_default(pad, parent, list);
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS)
        (*guard)->fail(ret);
    return GST_FLOW_OK;
}

void deleteGuard(gpointer data) noexcept
{
    delete static_cast<std::shared_ptr<Guard> *>(data);
}

// A sink that prerolls (async) inside a playing pipeline takes the whole
// pipeline's state with it; outputs join a running composite.
void makeSinksSynchronous(GstElement *bin)
{
    if (!GST_IS_BIN(bin))
        return;
    forEachElement(GST_BIN(bin), [](GstElement *e) {
        if (!GST_IS_BIN(e) && GST_OBJECT_FLAG_IS_SET(e, GST_ELEMENT_FLAG_SINK))
            setPropertyIfExists(e, "async", FALSE);
        return true;
    });
}

} // namespace

struct MixerOutputs::Output
{
    struct Entry
    {
        GstElement *tee = nullptr; // borrowed: the mixer's, lives as long as the pipeline
        GPtr<GstPad> ghost; // the bin's entry pad
        GPtr<GstElement> queue;
        GPtr<GstPad> teePad; // nullptr once unlinked
    };
    unsigned id = 0;
    GPtr<GstElement> bin;
    Entry video, audio;
    std::shared_ptr<Guard> guard = std::make_shared<Guard>();
    GPtr<GSource> flowFailure; // an error flow waiting for its ERROR message (onFailed)
    bool finishing = false, failed = false, eos = false;
};

MixerOutputs::MixerOutputs(GMainContext *context, GstElement *pipeline, GstElement *videoTee,
    GstElement *audioTee, unsigned &serial, rc::log::Logger log, Callbacks callbacks)
    : context_(context)
    , pipeline_(pipeline)
    , videoTee_(videoTee)
    , audioTee_(audioTee)
    , serial_(serial)
    , log_(std::move(log))
    , callbacks_(std::move(callbacks))
{ }

MixerOutputs::~MixerOutputs()
{
    self_.invalidate();
}

MixerOutputs::Output *MixerOutputs::find(GstElement *bin)
{
    for (auto &o : outputs_)
        if (o->bin.get() == bin)
            return o.get();
    return nullptr;
}

bool MixerOutputs::add(GstElement *bin, std::string &error)
{
    if (!bin || find(bin)) {
        error = "no output bin, or added twice";
        return false;
    }
    auto o = std::make_unique<Output>();
    o->id = ++serial_;
    o->guard->output = o->id;
    o->guard->context = context_;
    o->guard->owner = self_.ref();
    o->bin = refSink(bin);
    o->video.ghost = adopt(gst_element_get_static_pad(bin, "video"));
    o->audio.ghost = adopt(gst_element_get_static_pad(bin, "audio"));
    if (!o->video.ghost && !o->audio.ghost) {
        error = "the output has neither a 'video' nor an 'audio' entry pad";
        return false;
    }
    makeSinksSynchronous(bin);
    if (!gst_bin_add(GST_BIN(pipeline_), bin)) {
        error = "the output bin is already in another pipeline";
        return false;
    }
    o->video.tee = videoTee_;
    o->audio.tee = audioTee_;
    const std::string base = "output-" + std::to_string(o->id);
    auto fail = [this, &o](const std::string &why, std::string &err) {
        err = why;
        unlink(*o);
        dispose(std::move(o));
        return false;
    };
    for (auto *entry : { &o->video, &o->audio }) {
        if (!entry->ghost)
            continue;
        if (!GST_IS_GHOST_PAD(entry->ghost.get())
            || GST_PAD_DIRECTION(entry->ghost.get()) != GST_PAD_SINK)
            return fail("the output's entry pads must be ghost sink pads", error);
        const std::string name = base + (entry == &o->video ? "-video" : "-audio");
        GstElement *queue = makeElement("queue", name.c_str(), error);
        if (!queue)
            return fail(error, error);
        entry->queue = refSink(queue);
        // Leaky: a stalled sink (a network output) loses its oldest data
        // instead of stalling the tee, the composite and every other output.
        g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
            kOutputQueueTime, nullptr);
        gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
        gst_bin_add(GST_BIN(pipeline_), queue);
        gst_pad_set_chain_function_full(
            entry->ghost.get(), guardedChain, new std::shared_ptr<Guard>(o->guard), deleteGuard);
        gst_pad_set_chain_list_function_full(entry->ghost.get(), guardedChainList,
            new std::shared_ptr<Guard>(o->guard), deleteGuard);
        GPtr<GstPad> queueSrc = adopt(gst_element_get_static_pad(queue, "src"));
        if (gst_pad_link(queueSrc.get(), entry->ghost.get()) != GST_PAD_LINK_OK)
            return fail("cannot link the composite into the output's entry", error);
    }
    if (!gst_element_sync_state_with_parent(bin))
        return fail("the output refused to start (see the log for the element)", error);
    for (auto *entry : { &o->video, &o->audio }) {
        if (!entry->queue)
            continue;
        if (!gst_element_sync_state_with_parent(entry->queue.get()))
            return fail("cannot start the output's queue", error);
        entry->teePad = adopt(gst_element_request_pad_simple(entry->tee, "src_%u"));
        GPtr<GstPad> queueSink = adopt(gst_element_get_static_pad(entry->queue.get(), "sink"));
        if (!entry->teePad || gst_pad_link(entry->teePad.get(), queueSink.get()) != GST_PAD_LINK_OK)
            return fail("cannot link the output to the composite", error);
    }
    log_.debug("output %s added", GST_OBJECT_NAME(bin));
    outputs_.push_back(std::move(o));
    return true;
}

void MixerOutputs::unlink(Output &o)
{
    for (auto *entry : { &o.video, &o.audio }) {
        if (!entry->teePad)
            continue;
        // Releasing a tee's pad is safe while it streams (tee serialises
        // it with its pushes); the queue simply gets no more data.
        gst_element_release_request_pad(entry->tee, entry->teePad.get());
        entry->teePad.reset();
    }
}

void MixerOutputs::dispose(std::unique_ptr<Output> o)
{
    // The bin first: flushing it frees a queue thread blocked inside it
    // (a muxer waiting for data that will not come); then the queues.
    if (GST_OBJECT_PARENT(o->bin.get()) == GST_OBJECT(pipeline_)) {
        gst_element_set_state(o->bin.get(), GST_STATE_NULL);
        gst_bin_remove(GST_BIN(pipeline_), o->bin.get());
    }
    for (auto *entry : { &o->video, &o->audio }) {
        if (!entry->queue)
            continue;
        gst_element_set_state(entry->queue.get(), GST_STATE_NULL);
        gst_bin_remove(GST_BIN(pipeline_), entry->queue.get());
    }
}

void MixerOutputs::reportError(Output &o, const BusProblem &problem)
{
    // The first error is the cause (filesink's "no space left"); what follows is its echo (the
    // muxer's flow error, the entry's error return), never reported.
    if (o.failed)
        return;
    o.failed = true;
    o.guard->dead.store(true, std::memory_order_release);
    if (callbacks_.outputError) {
        auto cb = callbacks_.outputError; // may destroy us
        cb(o.bin.get(), problem);
    }
}

void MixerOutputs::onFailed(unsigned id, const std::string &why)
{
    // An element that fails posts its ERROR (filesink's "no space left", the cause its owner
    // acts on) before it returns the error flow that brought us here, but the two reach this
    // context by different routes, the bus watch and a post, in either order: the ERROR gets a
    // moment to arrive first. Not every error flow has one (not-negotiated).
    for (auto &o : outputs_)
        if (o->id == id) {
            if (o->failed || o->flowFailure)
                return;
            o->flowFailure = addTimeout(
                context_, kFlowErrorGrace, [ref = self_.ref(), context = context_, id, why] {
                    // From a later dispatch: the report may dispose of this very timer.
                    ref.post(
                        context, [id, why](MixerOutputs &self) { self.onFlowFailed(id, why); });
                    return false;
                });
            return;
        }
}

void MixerOutputs::onFlowFailed(unsigned id, const std::string &why)
{
    for (auto &o : outputs_)
        if (o->id == id) {
            if (o->failed)
                return; // its ERROR message came first
            log_.error("output %s %s", GST_OBJECT_NAME(o->bin.get()), why.c_str());
            BusProblem problem; // no ERROR was posted: no domain or code to tell a fault by
            problem.isError = true;
            problem.message = why;
            problem.sourcePath = problem.sourceName = GST_OBJECT_NAME(o->bin.get());
            reportError(*o, problem);
            return;
        }
}

void MixerOutputs::remove(GstElement *bin)
{
    auto it = std::find_if(
        outputs_.begin(), outputs_.end(), [bin](const auto &o) { return o->bin.get() == bin; });
    if (it == outputs_.end())
        return;
    std::unique_ptr<Output> o = std::move(*it);
    outputs_.erase(it);
    unlink(*o);
    dispose(std::move(o));
}

void MixerOutputs::finish(GstElement *bin)
{
    Output *o = find(bin);
    if (!o || o->finishing)
        return;
    o->finishing = true;
    unlink(*o);
    // Into the queues, behind what they hold: nothing else pushes there now,
    // so this never waits on a streaming thread.
    for (auto *entry : { &o->video, &o->audio })
        if (entry->queue) {
            GPtr<GstPad> sink = adopt(gst_element_get_static_pad(entry->queue.get(), "sink"));
            gst_pad_send_event(sink.get(), gst_event_new_eos());
        }
}

bool MixerOutputs::setPause(GstElement *bin, Pause mode)
{
    Output *o = find(bin);
    if (!o)
        return false;
    o->guard->pause.store(static_cast<int>(mode), std::memory_order_release);
    return true;
}

bool MixerOutputs::onProblem(GstObject *top, const BusProblem &problem)
{
    for (auto &o : outputs_) {
        if (top != GST_OBJECT(o->bin.get()) && top != GST_OBJECT(o->video.queue.get())
            && top != GST_OBJECT(o->audio.queue.get()))
            continue;
        log_.write(problem.isError ? rc::log::Level::error : rc::log::Level::warning, "output: %s",
            problem.describe().c_str());
        if (problem.isError)
            reportError(*o, problem); // may destroy us
        return true;
    }
    return false;
}

bool MixerOutputs::onForwardedEos(GstObject *src)
{
    for (auto &o : outputs_)
        if (src == GST_OBJECT(o->bin.get())) {
            // A failed output's muxer pushes EOS after the error
            // (aggregators do): that is not a finished output.
            if (o->eos || o->failed)
                return true;
            o->eos = true;
            log_.debug("output %s finished", GST_OBJECT_NAME(o->bin.get()));
            if (callbacks_.outputEos) {
                auto cb = callbacks_.outputEos; // may destroy us
                cb(o->bin.get());
            }
            return true;
        }
    return false;
}

} // namespace rc::gateway
