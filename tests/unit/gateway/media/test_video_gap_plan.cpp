// Unit tests of VideoGapPlan: when black keyframes go into a stopped video stream, with which
// timestamps, and which real frames may follow them.
#include "gateway/media/video_gap_plan.h"

#include <catch2/catch.hpp>

using rc::gateway::VideoGapPlan;
using Ns = VideoGapPlan::Ns;

namespace {

constexpr Ns ms = VideoGapPlan::kMs;
constexpr Ns kLatency = 200 * ms; // arrival - PTS, as behind a jitterbuffer
constexpr Ns kFrame = 40 * ms; // 25 fps

// Feeds frames [from, to) every kFrame, arriving kLatency after their PTS, a keyframe every
// keyEvery frames (the first one included); checks each passes and ends no gap.
void feed(VideoGapPlan &plan, Ns from, Ns to, int keyEvery = 50)
{
    int n = 0;
    for (Ns pts = from; pts < to; pts += kFrame, ++n) {
        auto d = plan.real(pts, 0, n % keyEvery == 0, pts + kLatency);
        REQUIRE(d.pass);
        REQUIRE_FALSE(d.gapEnded);
        REQUIRE_FALSE(d.requestKeyframe);
    }
}

// Ticks every 100 ms over [from, to) of running time; returns all black frames.
std::vector<VideoGapPlan::Frame> tickOver(VideoGapPlan &plan, Ns from, Ns to, bool canFill = true)
{
    std::vector<VideoGapPlan::Frame> all;
    for (Ns now = from; now < to; now += 100 * ms)
        for (auto &f : plan.tick(now, canFill))
            all.push_back(f);
    return all;
}

} // namespace

TEST_CASE("a steady stream gets no black, ticks or not", "[video-gap]")
{
    VideoGapPlan plan;
    for (Ns pts = 0; pts < 5000 * ms; pts += kFrame) {
        auto d = plan.real(pts, 0, pts == 0, pts + kLatency);
        REQUIRE(d.pass);
        REQUIRE(plan.tick(pts + kFrame + kLatency + 30 * ms, true).empty());
    }
    REQUIRE(plan.gaps() == 0);
    REQUIRE(plan.blackWritten() == 0);
    REQUIRE(plan.frameLength() == kFrame);
}

TEST_CASE("nothing is written before the first frame", "[video-gap]")
{
    VideoGapPlan plan;
    REQUIRE(tickOver(plan, 0, 5000 * ms).empty());
    REQUIRE_FALSE(plan.started());
}

TEST_CASE("a slow sender (a frame a second) is not a gap", "[video-gap]")
{
    VideoGapPlan plan;
    for (Ns pts = 0; pts < 10000 * ms; pts += 1000 * ms) {
        REQUIRE(plan.real(pts, 0, pts == 0, pts + kLatency).pass);
        REQUIRE(tickOver(plan, pts + kLatency, pts + 1000 * ms + kLatency).empty());
    }
    REQUIRE(plan.gaps() == 0);
}

TEST_CASE("a gap gets a black keyframe at its start, then one a second", "[video-gap]")
{
    VideoGapPlan::Settings s;
    VideoGapPlan plan(s);
    feed(plan, 0, 2000 * ms); // the last frame at 1960 ms ends at 2000 ms
    REQUIRE(plan.end() == 2000 * ms);
    // Nothing before startAfter...
    REQUIRE(tickOver(plan, 2000 * ms + kLatency, 2000 * ms + kLatency + s.startAfter).empty());
    REQUIRE_FALSE(plan.inGap());
    // ... then the first black sits exactly where the video stopped, in the past.
    const Ns detected = 2000 * ms + kLatency + s.startAfter;
    auto first = plan.tick(detected, true);
    REQUIRE(plan.inGap());
    REQUIRE(plan.gaps() == 1);
    REQUIRE_FALSE(first.empty());
    REQUIRE(first.front() == VideoGapPlan::Frame { 2000 * ms, kFrame, 0 });
    // Five seconds of gap: one keyframe a second, never closer than `lag` to the expected PTS.
    auto rest = tickOver(plan, detected + 100 * ms, 7000 * ms + kLatency);
    first.insert(first.end(), rest.begin(), rest.end());
    REQUIRE(first.size() == 5);
    for (size_t i = 0; i < first.size(); ++i) {
        CHECK(first[i].pts == 2000 * ms + static_cast<Ns>(i) * s.repeatEvery);
        CHECK(first[i].index == i);
        CHECK(first[i].duration == kFrame);
    }
    REQUIRE(first.back().pts <= 7000 * ms - s.lag);
    REQUIRE(plan.waitingForKeyframe());
}

TEST_CASE("after black, real video resumes at its next keyframe only", "[video-gap]")
{
    VideoGapPlan::Settings s;
    VideoGapPlan plan(s);
    feed(plan, 0, 2000 * ms);
    auto black = tickOver(plan, 2200 * ms, 5200 * ms); // a 3 s pause, as the sender sees it
    REQUIRE(black.size() == 3);
    const Ns lastBlack = black.back().pts;

    // The sender resumes at 5000 ms with delta frames (its encoder never knew it paused).
    auto d = plan.real(5000 * ms, 0, false, 5000 * ms + kLatency);
    CHECK_FALSE(d.pass);
    CHECK(d.requestKeyframe);
    CHECK_FALSE(d.gapEnded);
    // More deltas: dropped; the request is repeated only every keyframeRetry.
    int requests = 0;
    Ns pts = 5000 * ms + kFrame;
    for (; pts < 5000 * ms + 1000 * ms; pts += kFrame) {
        auto dd = plan.real(pts, 0, false, pts + kLatency);
        REQUIRE_FALSE(dd.pass);
        requests += dd.requestKeyframe ? 1 : 0;
    }
    CHECK(requests == 1); // at 500 ms after the first; the next would be due at 1000 ms
    // Ticks meanwhile go on with black (the output shows black until the keyframe), but never
    // ahead of the real frames coming back: the keyframe to come finds its place free.
    for (auto &f : tickOver(plan, 5200 * ms, pts + kLatency))
        REQUIRE(f.pts + s.lag <= pts);
    REQUIRE(plan.inGap());

    // The keyframe: passes and ends the gap.
    auto k = plan.real(pts, 0, true, pts + kLatency);
    CHECK(k.pass);
    CHECK(k.gapEnded);
    CHECK(k.gapStart == 2000 * ms);
    CHECK(k.blackWritten >= 3);
    CHECK(lastBlack == 4000 * ms);
    CHECK_FALSE(plan.inGap());
    CHECK_FALSE(plan.waitingForKeyframe());
    CHECK(plan.realDropped() == 25);
    // And the stream goes on as before.
    feed(plan, pts + kFrame, pts + 2000 * ms);
    CHECK(plan.gaps() == 1);
}

TEST_CASE("a keyframe that does not come after the last black is dropped too", "[video-gap]")
{
    VideoGapPlan plan;
    feed(plan, 0, 1000 * ms);
    auto black = tickOver(plan, 1200 * ms, 5000 * ms);
    REQUIRE_FALSE(black.empty());
    // A keyframe stamped at or before the last black (a sender's clock going back): its place
    // is taken.
    auto d = plan.real(black.back().pts, 0, true, 5000 * ms);
    CHECK_FALSE(d.pass);
    CHECK(d.requestKeyframe);
    CHECK(plan.inGap());
}

TEST_CASE("without a black keyframe ready the gap freezes and deltas pass", "[video-gap]")
{
    VideoGapPlan plan;
    feed(plan, 0, 1000 * ms);
    REQUIRE(tickOver(plan, 1200 * ms, 4000 * ms, false).empty());
    REQUIRE(plan.inGap());
    REQUIRE_FALSE(plan.waitingForKeyframe());
    auto d = plan.real(3800 * ms, 0, false, 4000 * ms);
    CHECK(d.pass);
    CHECK(d.gapEnded);
    CHECK(d.blackWritten == 0);
    CHECK_FALSE(d.requestKeyframe);
    CHECK(plan.blackWritten() == 0);
}

TEST_CASE("black that becomes ready during a gap still starts at the gap's start", "[video-gap]")
{
    VideoGapPlan plan;
    feed(plan, 0, 1000 * ms);
    REQUIRE(tickOver(plan, 1200 * ms, 3000 * ms, false).empty());
    auto late = plan.tick(3000 * ms, true);
    REQUIRE(late.size() == 2); // 1000 ms and 2000 ms, both up to 3000 - 200 - 300 ms
    CHECK(late[0].pts == 1000 * ms);
    CHECK(late[1].pts == 2000 * ms);
}

TEST_CASE("frame length: the duration given, else the stream's spacing", "[video-gap]")
{
    VideoGapPlan plan;
    plan.real(0, 0, true, kLatency);
    CHECK(plan.frameLength() == VideoGapPlan::Settings {}.defaultFrame);
    plan.real(100 * ms, 0, false, 100 * ms + kLatency);
    CHECK(plan.frameLength() == 100 * ms);
    plan.real(200 * ms, 50 * ms, false, 200 * ms + kLatency);
    CHECK(plan.end() == 250 * ms);
    // A long step is a pause, not the spacing.
    plan.real(1200 * ms, 0, false, 1200 * ms + kLatency);
    CHECK(plan.frameLength() == 100 * ms);
}

TEST_CASE("frames without a timestamp pass and change nothing", "[video-gap]")
{
    VideoGapPlan plan;
    auto d = plan.real(-1, 0, false, 100 * ms);
    CHECK(d.pass);
    CHECK_FALSE(plan.started());
    feed(plan, 0, 1000 * ms);
    tickOver(plan, 1200 * ms, 4000 * ms);
    REQUIRE(plan.waitingForKeyframe());
    CHECK(plan.real(-1, 0, false, 4000 * ms).pass);
    CHECK(plan.waitingForKeyframe());
}

TEST_CASE("the expected position follows the latency of the latest frame", "[video-gap]")
{
    VideoGapPlan::Settings s;
    VideoGapPlan plan(s);
    // Frames arriving 200 ms late, then 600 ms late (a jitterbuffer growing): the gap is
    // judged from the later latency, so no black is written while frames are merely later.
    feed(plan, 0, 1000 * ms);
    for (Ns pts = 1000 * ms; pts < 2000 * ms; pts += kFrame)
        REQUIRE(plan.real(pts, 0, false, pts + 600 * ms).pass);
    REQUIRE(tickOver(plan, 2600 * ms, 2000 * ms + 600 * ms + s.startAfter).empty());
    REQUIRE_FALSE(plan.inGap());
}
