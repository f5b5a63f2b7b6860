// Keeps a video stream's first caps in front of the muxers when the sender changes its size,
// frame rate or parameter sets mid-stream, so that one file goes on; the change travels in-band.
//
// matroskamux refuses an H264 caps change once it has written its header ("Could not multiplex
// stream") and mp4mux/flvmux cannot describe a second avcC either; every decoder, however,
// follows new SPS/PPS (the chain's h264parse repeats them before every IDR) and the frame
// headers of VP8/VP9/AV1 in-band. So once data has flowed, a caps change that only alters what
// the bitstream itself says (width, height, framerate, codec_data, profile, level, colour) is
// held back; a change of codec or of framing (stream-format, alignment) passes, for the muxer
// to judge.
//
// Shared by shared_ptr between the StreamChain that installs it (main context) and its pad
// probe (the streaming thread). Its caps state is touched by the probe only, which the pad's
// stream lock serializes; the counters are atomics, readable from any thread.
#pragma once

#include "common/base/log.h"

#include <gst/gst.h>

#include <atomic>
#include <memory>

namespace rc::gateway {

class CapsGuard
{
public:
    CapsGuard() = default;
    ~CapsGuard();
    CapsGuard(const CapsGuard &) = delete;
    CapsGuard &operator=(const CapsGuard &) = delete;

    // Whether next differs from kept only in what the bitstream carries in-band, for a video
    // codec whose decoders follow such changes: same media type (H264, H265, VP8, VP9, AV1),
    // same stream-format and alignment. Pure.
    static bool describedInBand(const GstCaps *kept, const GstCaps *next) noexcept;

    // One caps event: true to pass it on, false to hold it back (downstream keeps the caps it
    // has). Caps before the first buffer always pass: no muxer has committed to them yet.
    bool admitCaps(GstCaps *caps) noexcept;
    // One buffer has passed: from now on, caps are guarded.
    void dataFlowed() noexcept { flowing_ = true; }

    // The caps downstream has (borrowed; null before the first caps). Probe thread only.
    GstCaps *kept() const noexcept { return kept_; }
    // Caps changes held back so far.
    unsigned held() const noexcept { return held_.load(std::memory_order_relaxed); }

    // Installs a probe on pad (buffers and downstream events) that replaces each caps event
    // guard holds back by one with the kept caps (a no-op downstream); the probe keeps its own
    // reference to guard. Returns the probe id.
    static gulong install(GstPad *pad, std::shared_ptr<CapsGuard> guard);
    // The probe itself (user data: a std::shared_ptr<CapsGuard> *), for tests.
    static GstPadProbeReturn probe(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept;

private:
    GstCaps *kept_ = nullptr; // owned: the caps downstream has
    bool flowing_ = false;
    std::atomic<unsigned> held_ { 0 };
    rc::log::Logger log_ { "gateway" };
};

} // namespace rc::gateway
