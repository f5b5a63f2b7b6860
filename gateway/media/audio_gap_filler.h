// Keeps an Opus stream's timeline whole across a gap (network outage, paused sender): while no
// packet comes, it writes Opus silence frames (ready-made packets, nothing is transcoded) with
// timestamps that continue the stream, so that every output's audio track has no missing time
// and players keep lips and voice together after the gap.
//
//   opusparse -> appsink ==(AudioGapPlan, one mutex)==> appsrc -> tee
//                                 ^
//        a one-shot clock timer (GstSystemClock's thread), re-armed at each firing where the
//        stream would first count as late: ~7 wake-ups a second while it flows, every 20 ms
//        only in a gap
//
// Real time matters: a muxer with collect pads (matroskamux) waits for audio while video flows,
// so silence must come while the sender is still away, not when it returns. A packet thread and
// the tick thread both push through one appsrc under one mutex, so the order of what is pushed
// is the order of the timeline (the plan never goes back in time).
//
// Owned by its StreamChain (main context); its elements belong to the chain's bin. The shared
// state lives as long as the last of the filler, the appsink callbacks and the clock tick.
#pragma once

#include "common/base/log.h"
#include "common/gst/gst_ptr.h"

#include <gst/gst.h>

#include <memory>
#include <string>

namespace rc::gateway {

class AudioGapFiller
{
public:
    // Adds appsink and appsrc to bin (not linked, not yet synced to its state); nullptr with
    // error on failure.
    static std::unique_ptr<AudioGapFiller> build(GstBin *bin, std::string &error);
    ~AudioGapFiller();
    AudioGapFiller(const AudioGapFiller &) = delete;
    AudioGapFiller &operator=(const AudioGapFiller &) = delete;

    // Link the parser to input(), output() to the tee.
    GstElement *input() const noexcept { return sink_.get(); }
    GstElement *output() const noexcept { return src_.get(); }

    // One 20 ms Opus CELT silence packet (RFC 6716 TOC + a frame whose first symbol is the
    // silence flag), for duration 2.5, 5, 10 or 20 ms; stereo sets the TOC's s bit.
    static GPtr<GstBuffer> silencePacket(gint64 pts, gint64 duration, bool stereo);

    struct State; // shared with the callbacks; defined in the .cpp

private:
    AudioGapFiller() = default;

    GPtr<GstElement> sink_;
    GPtr<GstElement> src_;
    std::shared_ptr<State> state_; // holds the timer too (it is replaced from the clock thread)
};

} // namespace rc::gateway
