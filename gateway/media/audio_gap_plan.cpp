// Timing rules of the audio gap filler; see audio_gap_plan.h.
#include "gateway/media/audio_gap_plan.h"

#include <array>

namespace rc::gateway {

std::vector<AudioGapPlan::Frame> AudioGapPlan::split(Ns from, Ns to)
{
    // Opus CELT frame sizes, longest first: fewest packets for a long gap.
    static constexpr std::array<Ns, 4> kSizes { 20 * kMs, 10 * kMs, 5 * kMs, 5 * kMs / 2 };
    std::vector<Frame> out;
    Ns at = from;
    for (Ns size : kSizes) {
        while (to - at >= size) {
            out.push_back({ at, size });
            at += size;
        }
    }
    return out;
}

void AudioGapPlan::addSilence(std::vector<Frame> &out, Ns to)
{
    for (const Frame &f : split(end_, to)) {
        out.push_back(f);
        end_ = f.pts + f.duration;
        silenceEnd_ = end_;
        silence_ += f.duration;
        gapSilence_ += f.duration;
    }
}

AudioGapPlan::Decision AudioGapPlan::real(Ns pts, Ns duration, Ns arrival)
{
    Decision d;
    d.pts = pts;
    if (pts < 0)
        return d;
    if (duration <= 0)
        duration = 20 * kMs;
    if (!started_) {
        started_ = true;
        end_ = pts + duration;
        offset_ = arrival - pts;
        return d;
    }
    if (pts < silenceEnd_) {
        // Overlaps silence already written (it ran ahead of a packet that came back early):
        // what was pushed cannot be taken back, so the packet yields.
        if (silenceEnd_ - pts > duration / 2) {
            d.pass = false;
            ++dropped_;
            return d;
        }
        d.pts = silenceEnd_;
    } else if (pts - end_ >= settings_.fillHolesFrom) {
        addSilence(d.silenceBefore, pts);
    }
    // end_ counts samples, not timestamps: real packets whose timestamps come closer than their
    // length (a jitterbuffer settling) pass as they are and push end_ ahead, and wider spacing
    // is only filled once it adds up to fillHolesFrom. So the samples written stay within
    // fillHolesFrom of the timestamps, which is what a player that plays samples back to back
    // (ignoring timestamps) needs to keep audio with video.
    if (inGap_) {
        d.gapEnded = gapSilence_;
        ++gaps_;
    }
    inGap_ = false;
    gapSilence_ = 0;
    end_ += duration;
    offset_ = arrival - pts;
    return d;
}

std::vector<AudioGapPlan::Frame> AudioGapPlan::tick(Ns now)
{
    std::vector<Frame> out;
    if (!started_)
        return out; // no timeline to continue yet
    const Ns expected = now - offset_;
    if (!inGap_) {
        if (expected - end_ < settings_.startAfter)
            return out;
        inGap_ = true;
    }
    // Whole 20 ms frames only while the gap lasts; the rest is filled exactly when the stream
    // returns (real()).
    const Ns until = expected - settings_.lag;
    while (until - end_ >= 20 * kMs) {
        out.push_back({ end_, 20 * kMs });
        end_ += 20 * kMs;
        silenceEnd_ = end_;
        silence_ += 20 * kMs;
        gapSilence_ += 20 * kMs;
    }
    return out;
}

AudioGapPlan::Ns AudioGapPlan::nextTick(Ns now) const noexcept
{
    if (!started_)
        return -1;
    if (inGap_)
        return now + 20 * kMs;
    // tick() starts a gap once now - offset_ - end_ >= startAfter.
    const Ns late = end_ + offset_ + settings_.startAfter;
    return late > now ? late : now;
}

} // namespace rc::gateway
