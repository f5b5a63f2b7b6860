// When and where silence goes into an audio stream that stops: the timing rules of the audio gap
// filler, kept free of GStreamer so that they can be tested alone.
//
// Owned by one AudioGapFiller, which calls it under its own mutex (from the streaming thread for
// real packets, from a thread-pool job for ticks): the plan itself is not thread-safe.
//
// All times are nanoseconds of the pipeline's running time. A real packet's "arrival" is the
// running time at which it reached the filler; its PTS is what the jitterbuffer gave it.
// arrival - PTS (about the jitterbuffer's latency) is how far behind the clock the stream runs,
// so while nothing comes, "now - that offset" is the PTS the next packet would have had.
#pragma once

#include <cstdint>
#include <vector>

namespace rc::gateway {

class AudioGapPlan
{
public:
    using Ns = std::int64_t;
    static constexpr Ns kMs = 1000000;

    struct Settings
    {
        // Silence starts once the stream is this far behind its expected position (long enough
        // not to fire on ordinary jitter, short enough that a muxer waiting for audio does not
        // fill the queues in front of it).
        Ns startAfter = 150 * kMs;
        // While the gap lasts, silence is written up to this far behind the expected position,
        // so that the real packets, when they return, find the place free. Measured: after a
        // paused sender the first packet's PTS is its arrival time, but after a network outage
        // the jitterbuffer holds the first packets back (up to its 200 ms latency) while waiting
        // for the lost ones, so they arrive up to ~180 ms behind their PTS.
        Ns lag = 250 * kMs;
        // A hole between two packets at least this long is filled when the later one arrives
        // (a lost packet, or the rest of a gap); shorter ones are timestamp jitter.
        Ns fillHolesFrom = 10 * kMs;
    };

    // One silence frame to insert: its PTS and duration (2.5, 5, 10 or 20 ms, the Opus CELT
    // frame sizes).
    struct Frame
    {
        Ns pts = 0;
        Ns duration = 0;
        bool operator==(const Frame &) const = default;
    };

    // What to do with one real packet.
    struct Decision
    {
        std::vector<Frame> silenceBefore; // insert these first
        bool pass = true; // false: drop it (the place is already taken by silence)
        Ns pts = 0; // the PTS to give it when it passes (moved forward onto the silence's end
                    // when it overlaps silence by less than half its length)
        Ns gapEnded = 0; // > 0: a gap ends here, after this much silence (ns) was written for it
    };

    AudioGapPlan() = default;
    explicit AudioGapPlan(Settings settings)
        : settings_(settings)
    { }

    // A real packet; pts < 0 means it has none (it passes untouched and changes nothing).
    Decision real(Ns pts, Ns duration, Ns arrival);
    // The clock moved on to now with no packet: the silence frames due.
    std::vector<Frame> tick(Ns now);
    // The earliest running time at which tick() can do anything, asked at now: while the
    // stream flows that is where it would count as late (so the filler's timer wakes about
    // once per startAfter instead of every 20 ms), in a gap the next 20 ms frame; -1 before
    // the first packet (no timeline yet: the caller polls). Packets only push it later, so a
    // timer armed at the answer is never too late; one that fires early asks again.
    Ns nextTick(Ns now) const noexcept;

    bool started() const noexcept { return started_; }
    bool inGap() const noexcept { return inGap_; }
    // Where the samples written so far end (first PTS + every packet's duration).
    Ns end() const noexcept { return end_; }
    Ns silenceWritten() const noexcept { return silence_; }
    unsigned gaps() const noexcept { return gaps_; }
    unsigned realDropped() const noexcept { return dropped_; }

    // Splits [from, to) into Opus frame lengths, 20 ms first; a rest under 2.5 ms is left out.
    static std::vector<Frame> split(Ns from, Ns to);

private:
    void addSilence(std::vector<Frame> &out, Ns to);

    Settings settings_;
    bool started_ = false;
    bool inGap_ = false;
    Ns end_ = 0;
    Ns silenceEnd_ = 0; // end of the last silence written: real packets never go before it
    Ns offset_ = 0; // arrival - PTS of the latest real packet
    Ns silence_ = 0;
    Ns gapSilence_ = 0; // silence written since the current gap began
    unsigned gaps_ = 0;
    unsigned dropped_ = 0;
};

} // namespace rc::gateway
