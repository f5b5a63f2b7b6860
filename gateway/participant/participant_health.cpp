// The participant watchdog's decisions; see participant_health.h.
#include "gateway/participant/participant_health.h"

#include <algorithm>

namespace rc::gateway {
namespace {

std::string seconds(std::chrono::milliseconds ms)
{
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(ms).count());
}

} // namespace

const char *ParticipantHealth::gapName(Gap gap) noexcept
{
    switch (gap) {
    case Gap::Network:
        return "network";
    case Gap::SenderPaused:
        return "sender-paused";
    case Gap::None:
        break;
    }
    return "none";
}

bool ParticipantHealth::iceState(Ice state, Time now) noexcept
{
    const bool wasConnected = connected();
    ice_ = state;
    if (state == Ice::Connected) {
        if (wasConnected)
            return false;
        const bool back = connectedOnce_;
        connectedOnce_ = true;
        connectedAt_ = now;
        return back;
    }
    if (wasConnected)
        lostAt_ = now;
    return false;
}

Backoff::Clock::time_point ParticipantHealth::steady(Time t) noexcept
{
    return Backoff::Clock::time_point(std::chrono::duration_cast<Backoff::Clock::duration>(t));
}

void ParticipantHealth::moveGap(Gap to, Time at, Verdict &verdict)
{
    if (to == gap_)
        return;
    at = std::max(at, gapSince_); // a gap never ends before it began
    if (gap_ != Gap::None)
        verdict.gaps.push_back({ gap_, false, at });
    if (to != Gap::None)
        verdict.gaps.push_back({ to, true, at });
    gap_ = to;
    gapSince_ = at;
}

std::vector<ParticipantHealth::GapChange> ParticipantHealth::newConnection(
    Time now, std::optional<Time> lastMedia)
{
    Verdict verdict;
    startedAt_ = now;
    reconnectedAt_ = now;
    ice_ = Ice::New;
    if (up_) {
        up_ = false;
        downSince_ = now;
    }
    restarts_.reset();
    nextRestart_.reset();
    if (gap_ == Gap::SenderPaused)
        moveGap(Gap::Network, now, verdict); // the connection itself is gone now
    else if (gap_ == Gap::None && lastMedia)
        moveGap(Gap::Network, *lastMedia, verdict);
    return verdict.gaps;
}

ParticipantHealth::Verdict ParticipantHealth::check(Time now, Media media)
{
    Verdict verdict;
    if (reconnectedAt_ && media.last && *media.last >= *reconnectedAt_)
        reconnectedAt_.reset(); // the new connection brought media
    // A new connection without media yet: the gap goes on; only the setup timeout ends it.
    const bool awaiting = reconnectedAt_.has_value();
    if (awaiting && now - *reconnectedAt_ > Time(limits_.setupTimeout))
        verdict.failure
            = "no media " + seconds(limits_.setupTimeout) + " s after the new connection's offer";
    if (!media.last) {
        // No media yet: nothing to keep, and no timeline for a gap to be part of.
        if (now - startedAt_ > Time(limits_.setupTimeout))
            verdict.failure = "no media " + seconds(limits_.setupTimeout) + " s after the offer";
        return verdict;
    }
    const Time last = *media.last;
    const bool absent = awaiting || now - last > Time(limits_.mediaTimeout);
    trackLink(now, media);

    if (!absent) {
        const Time back = media.resumed && *media.resumed > gapSince_ ? *media.resumed : last;
        moveGap(Gap::None, back, verdict);
    } else if (!up_) {
        moveGap(Gap::Network, gap_ == Gap::SenderPaused ? downSince_ : last, verdict);
    } else if (gap_ != Gap::Network || now - upSince_ > Time(limits_.mediaTimeout)) {
        // Connected and still nothing: the sender stopped sending (after a network gap, from
        // the moment the connection came back).
        moveGap(Gap::SenderPaused, gap_ == Gap::Network ? upSince_ : last, verdict);
    }
    // else: the connection just came back; media is on its way (still a network gap).

    const bool down
        = !up_ && (ice_ == Ice::Failed || now - downSince_ >= Time(limits_.restartAfter) || absent);
    if (down && !awaiting && (!nextRestart_ || now >= *nextRestart_)) {
        verdict.restartIce = true;
        nextRestart_ = now + std::chrono::duration_cast<Time>(restarts_.next(steady(now)));
    }
    if (!awaiting && absent && !up_ && now - std::max(last, downSince_) > Time(limits_.grace))
        verdict.failure = "no media and no connection for " + seconds(limits_.grace) + " s";
    return verdict;
}

void ParticipantHealth::trackLink(Time now, const Media &media)
{
    const bool silent = media.link && now - *media.link > Time(limits_.linkTimeout);
    const bool up = connected() && !silent;
    if (up == up_)
        return;
    up_ = up;
    if (up) {
        // ICE came back (its time is known), or packets did (seen at this check).
        upSince_ = connectedAt_ > downSince_ ? connectedAt_ : now;
        // Up again: the next trouble starts the restart schedule over.
        restarts_.reset();
        nextRestart_.reset();
    } else if (!connected()) {
        // ICE states can lag behind the first media.
        downSince_ = connectedOnce_ ? lostAt_ : *media.last;
    } else {
        downSince_ = *media.link; // the last packet from the peer
    }
}

bool ParticipantHealth::mediaFlowing(Time now, std::optional<Time> lastMedia) const
{
    return lastMedia && mediaIdle(now, lastMedia) < limits_.mediaTimeout;
}

std::chrono::milliseconds ParticipantHealth::mediaIdle(
    Time now, std::optional<Time> lastMedia) const
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        now - lastMedia.value_or(startedAt_));
}

} // namespace rc::gateway
