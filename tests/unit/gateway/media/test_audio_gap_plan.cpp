// Unit tests of AudioGapPlan: when silence goes into a stopped Opus stream, with which
// timestamps, and what happens to the packets that come back.
#include "gateway/media/audio_gap_plan.h"

#include <catch2/catch.hpp>

#include <cstdlib>

using rc::gateway::AudioGapPlan;
using Ns = AudioGapPlan::Ns;

namespace {

constexpr Ns ms = AudioGapPlan::kMs;
constexpr Ns kLatency = 200 * ms; // arrival - PTS, as behind a jitterbuffer

// Feeds 20 ms packets [from, to) arriving kLatency after their PTS; checks each passes as is.
void feed(AudioGapPlan &plan, Ns from, Ns to)
{
    for (Ns pts = from; pts < to; pts += 20 * ms) {
        auto d = plan.real(pts, 20 * ms, pts + kLatency);
        REQUIRE(d.pass);
        REQUIRE(d.pts == pts);
        REQUIRE(d.silenceBefore.empty());
    }
}

// Ticks every 20 ms over [from, to) of running time; returns all silence frames.
std::vector<AudioGapPlan::Frame> tickOver(AudioGapPlan &plan, Ns from, Ns to)
{
    std::vector<AudioGapPlan::Frame> all;
    for (Ns now = from; now < to; now += 20 * ms)
        for (auto &f : plan.tick(now))
            all.push_back(f);
    return all;
}

// The frames tile [from, to) without holes or overlaps.
void requireContiguous(const std::vector<AudioGapPlan::Frame> &frames, Ns from, Ns to)
{
    Ns at = from;
    for (const auto &f : frames) {
        REQUIRE(f.pts == at);
        at += f.duration;
    }
    REQUIRE(at == to);
}

} // namespace

TEST_CASE("a steady stream gets no silence, ticks or not", "[audio-gap]")
{
    AudioGapPlan plan;
    for (Ns pts = 0; pts < 2000 * ms; pts += 20 * ms) {
        auto d = plan.real(pts, 20 * ms, pts + kLatency);
        REQUIRE(d.pass);
        REQUIRE(d.silenceBefore.empty());
        // A tick just before the next packet is due: still no gap.
        REQUIRE(plan.tick(pts + 20 * ms + kLatency + 10 * ms).empty());
    }
    REQUIRE(plan.silenceWritten() == 0);
    REQUIRE(plan.gaps() == 0);
}

TEST_CASE("nothing is written before the first packet", "[audio-gap]")
{
    AudioGapPlan plan;
    REQUIRE(tickOver(plan, 0, 5000 * ms).empty());
    REQUIRE_FALSE(plan.started());
}

TEST_CASE("a gap is filled in real time, then exactly when audio returns", "[audio-gap]")
{
    AudioGapPlan::Settings s;
    AudioGapPlan plan(s);
    feed(plan, 0, 1000 * ms); // ends at 1000 ms, arrivals up to 1180 ms
    // The sender pauses for 3 s: ticks from 1200 ms to 4200 ms of running time.
    auto during = tickOver(plan, 1200 * ms, 4200 * ms);
    REQUIRE(plan.inGap());
    REQUIRE_FALSE(during.empty());
    // Silence starts where the audio stopped, and never gets closer than `lag` to "now".
    requireContiguous(during, 1000 * ms, plan.end());
    const Ns lastNow = 4180 * ms;
    REQUIRE(plan.end() <= lastNow - kLatency - s.lag);
    REQUIRE(plan.end() >= lastNow - kLatency - s.lag - 20 * ms);
    // Silence began only after startAfter of missing audio.
    auto first = AudioGapPlan(s);
    feed(first, 0, 1000 * ms);
    REQUIRE(first.tick(1000 * ms + kLatency + s.startAfter - 1 * ms).empty());
    REQUIRE_FALSE(first.tick(1000 * ms + kLatency + s.startAfter + s.lag).empty());

    // Audio returns at PTS 4003 ms (not on the 20 ms grid): the rest of the hole is filled.
    const Ns back = 4003 * ms;
    auto d = plan.real(back, 20 * ms, back + kLatency);
    REQUIRE(d.pass);
    REQUIRE(d.pts == back);
    REQUIRE(d.gapEnded > 0);
    std::vector<AudioGapPlan::Frame> all = during;
    all.insert(all.end(), d.silenceBefore.begin(), d.silenceBefore.end());
    // Tiled up to within one 2.5 ms frame of the returning packet.
    Ns end = all.back().pts + all.back().duration;
    REQUIRE(end <= back);
    REQUIRE(back - end < 5 * ms / 2);
    requireContiguous(all, 1000 * ms, end);
    REQUIRE(plan.silenceWritten() == end - 1000 * ms);
    REQUIRE(d.gapEnded == plan.silenceWritten());
    REQUIRE(plan.gaps() == 1);
    REQUIRE_FALSE(plan.inGap());
    // And the stream goes on as before.
    feed(plan, back + 20 * ms, back + 1000 * ms);
}

TEST_CASE("a packet the silence already covers is dropped, a small overlap is moved", "[audio-gap]")
{
    AudioGapPlan plan;
    feed(plan, 0, 1000 * ms);
    tickOver(plan, 1200 * ms, 2200 * ms);
    const Ns end = plan.end();
    REQUIRE(end > 1000 * ms);
    // A packet that came back early, wholly inside the silence.
    auto d = plan.real(end - 40 * ms, 20 * ms, end);
    REQUIRE_FALSE(d.pass);
    REQUIRE(plan.realDropped() == 1);
    REQUIRE(plan.end() == end);
    // Overlapping by 5 ms: moved onto the silence's end, never backwards.
    d = plan.real(end - 5 * ms, 20 * ms, end + kLatency);
    REQUIRE(d.pass);
    REQUIRE(d.pts == end);
    REQUIRE(plan.end() == end + 20 * ms);
}

TEST_CASE("real packets closer than their length pass untouched", "[audio-gap]")
{
    // A jitterbuffer settling gives 20 ms packets 15 ms apart for a while: nothing is silence,
    // so nothing may be dropped or moved (a dropped packet shifts all later audio in players).
    AudioGapPlan plan;
    for (Ns pts = 0; pts < 1000 * ms; pts += 15 * ms) {
        auto d = plan.real(pts, 20 * ms, pts + kLatency);
        REQUIRE(d.pass);
        REQUIRE(d.pts == pts);
        REQUIRE(d.silenceBefore.empty());
    }
    REQUIRE(plan.realDropped() == 0);
    // Timestamps then spread out again: no silence until they catch up with the samples.
    const Ns ahead = plan.end();
    for (Ns pts = 1000 * ms; pts < 3000 * ms; pts += 25 * ms) {
        auto d = plan.real(pts, 20 * ms, pts + kLatency);
        REQUIRE(d.pts == pts);
        for (auto &f : d.silenceBefore)
            REQUIRE(f.pts >= ahead);
    }
    // And afterwards the samples follow the timestamps within fillHolesFrom.
    REQUIRE(plan.end() <= 2975 * ms + 20 * ms);
    REQUIRE(plan.end() >= 2975 * ms + 20 * ms - AudioGapPlan::Settings {}.fillHolesFrom);
}

TEST_CASE("a lost packet's hole is filled, jitter is not", "[audio-gap]")
{
    AudioGapPlan plan;
    feed(plan, 0, 200 * ms);
    // 2 ms late: jitter, passes as it is.
    auto d = plan.real(202 * ms, 20 * ms, 402 * ms);
    REQUIRE(d.silenceBefore.empty());
    REQUIRE(d.pts == 202 * ms);
    // One packet missing: 20 ms of samples are missing (the 2 ms of jitter stays in the
    // count), filled with one 20 ms frame where the samples end.
    d = plan.real(242 * ms, 20 * ms, 442 * ms);
    REQUIRE(d.silenceBefore == std::vector<AudioGapPlan::Frame> { { 220 * ms, 20 * ms } });
    REQUIRE(d.gapEnded == 0); // a hole, not a gap
    REQUIRE(plan.gaps() == 0);
}

TEST_CASE("split uses Opus frame sizes, longest first", "[audio-gap]")
{
    auto frames = AudioGapPlan::split(0, 57 * ms + 600000);
    std::vector<Ns> sizes;
    for (auto &f : frames)
        sizes.push_back(f.duration);
    REQUIRE(sizes == std::vector<Ns> { 20 * ms, 20 * ms, 10 * ms, 5 * ms, 2500000 });
    REQUIRE(AudioGapPlan::split(0, 2 * ms).empty());
}

TEST_CASE("a timer armed at nextTick finds a gap as soon as 20 ms ticks do, with few wake-ups",
    "[audio-gap]")
{
    AudioGapPlan polled;
    AudioGapPlan timed;
    REQUIRE(timed.nextTick(0) == -1); // no timeline yet
    // A steady stream for 2 s: the timer, re-armed wherever nextTick says, wakes about once per
    // startAfter and never finds the stream late.
    Ns timer = 0;
    unsigned wakeUps = 0;
    for (Ns pts = 0; pts < 2000 * ms; pts += 20 * ms) {
        const Ns arrival = pts + kLatency;
        REQUIRE(polled.real(pts, 20 * ms, arrival).silenceBefore.empty());
        REQUIRE(timed.real(pts, 20 * ms, arrival).silenceBefore.empty());
        if (timer == 0)
            timer = timed.nextTick(arrival);
        while (timer <= arrival + 20 * ms) { // the timer fires before the next packet
            ++wakeUps;
            REQUIRE(timed.tick(timer).empty());
            const Ns next = timed.nextTick(timer);
            REQUIRE(next > timer); // a flowing stream is never due now
            timer = next;
        }
    }
    REQUIRE(wakeUps >= 1);
    REQUIRE(wakeUps <= 2000 / 150 + 1); // 20 ms ticks would have been 100
    REQUIRE_FALSE(timed.inGap());

    // The sender stops: the 20 ms ticks and the timer both go on for 3 s.
    const Ns stop = 2000 * ms + kLatency;
    std::vector<AudioGapPlan::Frame> byTicks, byTimer;
    Ns polledGapAt = -1, timedGapAt = -1;
    for (Ns now = stop; now < stop + 3000 * ms; now += 20 * ms) {
        for (auto &f : polled.tick(now))
            byTicks.push_back(f);
        if (polledGapAt < 0 && polled.inGap())
            polledGapAt = now;
    }
    while (timer < stop + 3000 * ms) {
        for (auto &f : timed.tick(timer))
            byTimer.push_back(f);
        if (timedGapAt < 0 && timed.inGap())
            timedGapAt = timer;
        const Ns next = timed.nextTick(timer);
        REQUIRE(next > timer);
        timer = next;
    }
    REQUIRE(timedGapAt > 0);
    // Found no later than the 20 ms ticks found it (they are on a 20 ms grid: up to 20 ms after).
    REQUIRE(timedGapAt <= polledGapAt);
    REQUIRE(polledGapAt - timedGapAt < 20 * ms);
    REQUIRE_FALSE(byTimer.empty());
    requireContiguous(byTimer, 2000 * ms, byTimer.back().pts + byTimer.back().duration);
    // The same silence, give or take the last frame (the grids differ by < 20 ms).
    const Ns timedEnd = timed.end(), polledEnd = polled.end();
    REQUIRE(std::abs(timedEnd - polledEnd) <= 20 * ms);
}
