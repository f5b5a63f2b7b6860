// The participant watchdog's decisions; see participant_health.h.
#include "gateway/participant/participant_health.h"

namespace rc::gateway {

std::optional<std::string> ParticipantHealth::check(Time now, std::optional<Time> lastMedia) const
{
    const Time mediaTimeout = limits_.mediaTimeout;
    if (!lastMedia && now - startedAt_ > Time(limits_.setupTimeout))
        return "no media " + std::to_string(limits_.setupTimeout.count() / 1000)
            + " s after the offer";
    const std::string seconds
        = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(mediaTimeout).count());
    if (lastMedia && now - *lastMedia > mediaTimeout)
        return "no media for " + seconds + " s";
    if (iceDisconnectedSince_ && now - *iceDisconnectedSince_ > mediaTimeout)
        return "ICE disconnected for " + seconds + " s";
    return std::nullopt;
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
