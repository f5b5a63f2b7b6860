// The room composite's outputs: each a bin fed from the mixer's video and audio tees through a
// leaky queue and guarded entry pads, so that one output fails alone.
//
// Owned by the RoomMixer while its pipeline runs (made in start(), dropped in stop()); borrows
// the mixer's pipeline and tees, which outlive it. Thread-bound to the gateway's main context;
// only the entry pads' guards run on streaming threads, and they post back through a weak
// reference. The callbacks may destroy the RoomMixer, and so this object: every method returns
// at once after calling one.
#pragma once

#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/gst/bus_message.h"
#include "common/gst/gst_ptr.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rc::gateway {

class MixerOutputs
{
public:
    struct Callbacks
    {
        std::function<void(GstElement *outputBin)> outputEos; // see RoomMixer::Callbacks
        std::function<void(GstElement *outputBin, const BusProblem &problem)> outputError;
    };
    // serial: the mixer's element-name counter (borrowed, outlives this object).
    MixerOutputs(GMainContext *context, GstElement *pipeline, GstElement *videoTee,
        GstElement *audioTee, unsigned &serial, rc::log::Logger log, Callbacks callbacks);
    // Drops every output without EOS (the pipeline is already NULL).
    ~MixerOutputs();
    MixerOutputs(const MixerOutputs &) = delete;
    MixerOutputs &operator=(const MixerOutputs &) = delete;

    // RoomMixer::addOutput, removeOutput and finishOutput, once the mixer runs.
    bool add(GstElement *bin, std::string &error);
    void remove(GstElement *bin);
    void finish(GstElement *bin);
    // RoomMixer::setOutputPause: what bin's entries pass on from now (false: not ours).
    enum class Pause { none, drop, blank };
    bool setPause(GstElement *bin, Pause mode);
    size_t count() const noexcept { return outputs_.size(); }

    // From the mixer's bus watch. A problem whose top-level element (a child of the pipeline)
    // is one of ours: logged, and an ERROR reported. True if it was ours.
    bool onProblem(GstObject *top, const BusProblem &problem);
    // A forwarded EOS from src: true if src is one of our bins.
    bool onForwardedEos(GstObject *src);

    struct Guard; // shared with an output's streaming threads

private:
    struct Output;

    Output *find(GstElement *bin);
    void unlink(Output &o);
    void dispose(std::unique_ptr<Output> o);
    void reportError(Output &o, const BusProblem &problem);
    void onFailed(unsigned id, const std::string &why);
    void onFlowFailed(unsigned id, const std::string &why);

    GMainContext *context_; // borrowed: the gateway's
    GstElement *pipeline_, *videoTee_, *audioTee_; // borrowed from the RoomMixer
    unsigned &serial_;
    rc::log::Logger log_;
    Callbacks callbacks_;
    std::vector<std::unique_ptr<Output>> outputs_;
    WeakSelf<MixerOutputs> self_ { this }; // last: cut first
};

} // namespace rc::gateway
