// Holds a video stream back until its first keyframe, so that the first frame every consumer
// (file, restream, decoder) gets is one it can decode.
//
// Shared by shared_ptr between the StreamChain that installs it (main context) and its pad
// probe (the streaming thread): its state is atomics only, so either side may read it; admit()
// runs on the streaming thread, rearm() and the getters on any thread.
#pragma once

#include "common/base/log.h"

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <string>

namespace rc::gateway {

class KeyframeGate
{
public:
    // Whether one buffer may pass: false (drop) for a delta unit or a corrupted buffer while
    // the gate is closed; the first other buffer opens it. An open gate passes everything.
    bool admit(GstBuffer *buffer) noexcept;
    // Closes the gate again: deltas are dropped until the next keyframe.
    void rearm() noexcept;
    // The first opening is logged at info as "first keyframe from LABEL X ms after ICE
    // connected" (the bench pairs nothing: the line names its participant), measured from
    // connectedUs (g_get_monotonic_time). Call before data flows (the label is plain state);
    // connectedUs may be set again later, from any thread (0: not connected yet, no line).
    void reportFirstOpen(std::string label) { label_ = std::move(label); }
    void setConnectedAt(gint64 connectedUs) noexcept
    {
        connectedUs_.store(connectedUs, std::memory_order_release);
    }

    bool open() const noexcept { return open_.load(std::memory_order_acquire); }
    // Buffers dropped while the gate was closed (since it was made; rearm() does not reset it).
    unsigned dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

    // Installs a probe on pad that drops what gate does not admit; the probe holds its own
    // reference to gate. Returns the probe id.
    static gulong install(GstPad *pad, std::shared_ptr<KeyframeGate> gate);
    // The probe itself (user data: a std::shared_ptr<KeyframeGate> *), for tests.
    static GstPadProbeReturn probe(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept;

private:
    std::atomic<bool> open_ { false };
    std::atomic<unsigned> dropped_ { 0 };
    std::atomic<gint64> connectedUs_ { 0 };
    std::atomic<bool> reported_ { false };
    std::string label_;
    rc::log::Logger log_ { "gateway" };
};

} // namespace rc::gateway
