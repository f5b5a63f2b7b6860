// Whether a participant is still there: the decisions of its watchdog (no media after the offer,
// media stopped, ICE disconnected too long), from times and states it is told, with no clock
// and no GStreamer of its own.
//
// Owned by its PeerReceiver, which feeds it monotonic times (g_get_monotonic_time) and asks it
// once a second; thread-bound to the gateway's main context.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace rc::gateway {

class ParticipantHealth
{
public:
    // A monotonic time point, in microseconds since an arbitrary origin.
    using Time = std::chrono::microseconds;

    struct Limits
    {
        // No media for this long once it flowed, or ICE disconnected this long: the peer is
        // gone.
        std::chrono::milliseconds mediaTimeout { 5000 };
        // No media this long after the offer (no answer, ICE never connects).
        std::chrono::milliseconds setupTimeout { 20000 };
    };

    explicit ParticipantHealth(Limits limits)
        : limits_(limits)
    { }

    // The offer is being made: the setup timeout counts from here.
    void started(Time now) noexcept { startedAt_ = now; }
    // ICE went to disconnected (the first report counts; later ones keep that time).
    void iceDisconnected(Time now) noexcept
    {
        if (!iceDisconnectedSince_)
            iceDisconnectedSince_ = now;
    }
    // ICE is connected (or completed). True when it was disconnected before: it came back.
    bool iceConnected() noexcept
    {
        const bool back = iceDisconnectedSince_.has_value();
        iceDisconnectedSince_.reset();
        return back;
    }

    // The verdict at now, given when the last media buffer arrived (nullopt: none yet):
    // nullopt while healthy, else why the participant failed.
    std::optional<std::string> check(Time now, std::optional<Time> lastMedia) const;
    // Media arrived within the last mediaTimeout.
    bool mediaFlowing(Time now, std::optional<Time> lastMedia) const;
    // Time since the last media buffer (since started() if none came yet).
    std::chrono::milliseconds mediaIdle(Time now, std::optional<Time> lastMedia) const;

private:
    Limits limits_;
    Time startedAt_ { 0 };
    std::optional<Time> iceDisconnectedSince_;
};

} // namespace rc::gateway
