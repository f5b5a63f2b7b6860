// Timing rules of the video gap filler; see video_gap_plan.h.
#include "gateway/media/video_gap_plan.h"

namespace rc::gateway {
namespace {

// A PTS step longer than this is a pause, not the stream's frame spacing.
constexpr VideoGapPlan::Ns kMaxSpacing = 200 * VideoGapPlan::kMs;

} // namespace

VideoGapPlan::Ns VideoGapPlan::frameLength() const noexcept
{
    return spacing_ > 0 ? spacing_ : settings_.defaultFrame;
}

VideoGapPlan::Decision VideoGapPlan::real(Ns pts, Ns duration, bool keyframe, Ns arrival)
{
    Decision d;
    if (pts < 0)
        return d;
    offset_ = arrival - pts;
    if (!started_) {
        started_ = true;
        lastPts_ = pts;
        end_ = pts + (duration > 0 ? duration : frameLength());
        return d;
    }
    if (waitKeyframe_) {
        // Black was written: a delta frame would be decoded against it (or the place is
        // already black), so only a keyframe after the black restarts the real stream.
        if (!keyframe || pts <= lastBlack_) {
            d.pass = false;
            ++dropped_;
            if (lastRequest_ < 0 || arrival - lastRequest_ >= settings_.keyframeRetry) {
                lastRequest_ = arrival;
                d.requestKeyframe = true;
            }
            return d;
        }
    }
    if (inGap_) {
        d.gapEnded = true;
        d.blackWritten = gapBlack_;
        d.gapStart = gapStart_;
        inGap_ = false;
        waitKeyframe_ = false;
        lastBlack_ = -1;
        lastRequest_ = -1;
        gapBlack_ = 0;
    } else if (pts > lastPts_ && pts - lastPts_ <= kMaxSpacing) {
        spacing_ = pts - lastPts_;
    }
    lastPts_ = pts;
    const Ns frameEnd = pts + (duration > 0 ? duration : frameLength());
    if (frameEnd > end_)
        end_ = frameEnd;
    return d;
}

std::vector<VideoGapPlan::Frame> VideoGapPlan::tick(Ns now, bool canFill)
{
    std::vector<Frame> out;
    if (!started_)
        return out; // no timeline to continue yet
    const Ns expected = now - offset_;
    if (!inGap_) {
        if (expected - end_ < settings_.startAfter)
            return out;
        inGap_ = true;
        ++gaps_;
        gapStart_ = end_;
        nextBlack_ = end_;
        gapBlack_ = 0;
    }
    if (!canFill)
        return out;
    while (nextBlack_ <= expected - settings_.lag) {
        out.push_back({ nextBlack_, frameLength(), gapBlack_ });
        lastBlack_ = nextBlack_;
        nextBlack_ += settings_.repeatEvery;
        ++gapBlack_;
        ++blackTotal_;
        waitKeyframe_ = true;
    }
    return out;
}

} // namespace rc::gateway
