// Keeps an Opus stream's timeline whole across a gap (network outage, paused sender): while no
// packet comes, it writes Opus silence frames (ready-made packets, nothing is transcoded) with
// timestamps that continue the stream, so that every output's audio track has no missing time
// and players keep lips and voice together after the gap.
//
//   opusparse ─[probe: AudioGapPlan, one mutex]─► tee        (real packets: the same thread)
//                    ▲                            ▲
//   one-shot timer ──┘ (GstSystemClock's thread:  └── silence in a gap, pushed by a job on
//   ~7 wake-ups a second while audio flows,           GStreamer's thread pool
//   every 20 ms in a gap; never blocks)
//
// No thread of its own: a real packet goes on to the tee on the thread that brought it (an
// appsink -> appsrc pair here cost a thread hop per packet and a periodic 20 ms tick per
// participant). Real time matters: a muxer with collect pads (matroskamux) waits for audio while
// video flows, so silence must come while the sender is still away, not when it returns. Real
// packets and silence both reach the tee under one mutex, so the order of what is pushed is
// the order of the timeline (the plan never goes back in time). A push may block (a full
// queue behind the tee), so the clock's thread never pushes: it only posts the job.
//
// Owned by its StreamChain (main context); it probes the chain's parser src pad. The shared
// state lives as long as the last of the filler, the probe, the timer and a job.
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
    // Fills gaps in what leaves pad (the parser's src pad, already linked to the tee).
    static std::unique_ptr<AudioGapFiller> install(GstPad *pad);
    ~AudioGapFiller();
    AudioGapFiller(const AudioGapFiller &) = delete;
    AudioGapFiller &operator=(const AudioGapFiller &) = delete;

    // One 20 ms Opus CELT silence packet (RFC 6716 TOC + a frame whose first symbol is the
    // silence flag), for duration 2.5, 5, 10 or 20 ms; stereo sets the TOC's s bit.
    static GPtr<GstBuffer> silencePacket(gint64 pts, gint64 duration, bool stereo);

    struct State; // shared with the callbacks; defined in the .cpp

private:
    AudioGapFiller() = default;

    GPtr<GstPad> pad_;
    gulong probe_ = 0;
    std::shared_ptr<State> state_; // holds the timer too (it is replaced from other threads)
};

} // namespace rc::gateway
