// Whether a participant is still there and what its connection needs: the decisions of its
// watchdog (a gap in its media and why, an ICE restart due, the end of a participant that never
// connected or stayed away past the grace), from times and states it is told, with no clock and
// no GStreamer of its own.
//
// Media silence is not an end (issue #11): while ICE is connected and media is absent the sender
// paused (camera and microphone off); with ICE disconnected or failed the network is in trouble
// and an ICE restart is asked for, again and again on a backoff, for as long as the participant
// is kept. Only a first negotiation that never brings media (setupTimeout) or a participant with
// neither media nor a connection for the whole grace fails.
//
// Owned by its PeerReceiver, which feeds it monotonic times (g_get_monotonic_time) and asks it
// once a second; thread-bound to the gateway's main context.
#pragma once

#include "common/base/backoff.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

class ParticipantHealth
{
public:
    // A monotonic time point, in microseconds since an arbitrary origin.
    using Time = std::chrono::microseconds;

    struct Limits
    {
        // No media this long: a gap begins (sender paused or network, dated from the last
        // media). A browser sends audio every 20 ms and video frames even when its camera is
        // muted, so a second or two already means something.
        std::chrono::milliseconds mediaTimeout { 5000 };
        // No media this long after the first offer (no answer, ICE never connects): failed.
        std::chrono::milliseconds setupTimeout { 20000 };
        // Nothing at all from the peer (RTP, RTCP, DTLS) this long while ICE still says
        // connected: the link is down. libnice notices a dead pair only after its 25 s
        // keepalive; a paused browser still sends RTCP every second or so.
        std::chrono::milliseconds linkTimeout { 4000 };
        // Down this long (ICE failed: at once) before the first ICE restart.
        std::chrono::milliseconds restartAfter { 3000 };
        // Between ICE restarts while the connection stays down: doubling up to the cap.
        std::chrono::milliseconds restartInitial { 2000 };
        std::chrono::milliseconds restartMax { 30000 };
        // Neither media nor a connection this long: the participant is gone (failed).
        std::chrono::milliseconds grace { 600000 };
    };

    // webrtcbin's ICE connection state, reduced to what the watchdog needs.
    enum class Ice { New, Checking, Connected, Disconnected, Failed };
    // What a gap in the participant's media is put down to.
    enum class Gap { None, Network, SenderPaused };
    static const char *gapName(Gap gap) noexcept;

    // When media arrived: the last buffer, and the first one after the latest silence (both
    // nullopt until the first buffer); and the last packet of any kind from the peer (nullopt:
    // not watched, ICE states alone then say whether the link is up).
    struct Media
    {
        std::optional<Time> last;
        std::optional<Time> resumed;
        std::optional<Time> link;
    };

    // A gap began (started) or ended, at that time.
    struct GapChange
    {
        Gap cause = Gap::None;
        bool started = false;
        Time at { 0 };
    };

    struct Verdict
    {
        std::vector<GapChange> gaps; // in order: an end comes before the start that follows
        bool restartIce = false; // restart ICE now (the attempt is counted)
        std::optional<std::string> failure; // the participant is gone: why
    };

    explicit ParticipantHealth(Limits limits)
        : limits_(limits)
        , restarts_(limits.restartInitial, limits.restartMax)
    { }

    // The first offer is being made: the setup timeout counts from here.
    void started(Time now) noexcept { startedAt_ = now; }
    // A new peer connection replaces the lost one (same participant, same outputs): ICE starts
    // over, no ICE restart until it brings media, and until then the participant is in a
    // network gap (opened now if none was, dated from its last media) that fails after the
    // setup timeout instead of the grace. Returns the gap changes to report.
    std::vector<GapChange> newConnection(Time now, std::optional<Time> lastMedia);
    // The ICE connection state changed. True when it is connected again after having been
    // connected and lost: it came back.
    bool iceState(Ice state, Time now) noexcept;
    Ice ice() const noexcept { return ice_; }
    // ICE was connected at least once.
    bool connectedOnce() const noexcept { return connectedOnce_; }

    // The verdict at now. Not const: it moves the gap and the restart schedule on.
    Verdict check(Time now, Media media);
    // The gap open now (None: media flows).
    Gap gap() const noexcept { return gap_; }
    // ICE restarts asked for since the connection was last up.
    unsigned restartsSinceConnected() const noexcept { return restarts_.failures(); }

    // Media arrived within the last mediaTimeout.
    bool mediaFlowing(Time now, std::optional<Time> lastMedia) const;
    // Time since the last media buffer (since started() if none came yet).
    std::chrono::milliseconds mediaIdle(Time now, std::optional<Time> lastMedia) const;

private:
    bool connected() const noexcept { return ice_ == Ice::Connected; }
    void trackLink(Time now, const Media &media);
    void moveGap(Gap to, Time at, Verdict &verdict);
    static Backoff::Clock::time_point steady(Time t) noexcept;

    Limits limits_;
    Time startedAt_ { 0 };
    Ice ice_ = Ice::New;
    bool connectedOnce_ = false;
    Time connectedAt_ { 0 }; // the latest move to connected
    Time lostAt_ { 0 }; // the latest move away from connected (once connected)
    // The link as the checks saw it: ICE connected and packets arriving.
    bool up_ = false;
    Time upSince_ { 0 }, downSince_ { 0 };
    Gap gap_ = Gap::None;
    Time gapSince_ { 0 };
    Backoff restarts_;
    std::optional<Time> nextRestart_; // set while the connection is down and a restart was made
    std::optional<Time> reconnectedAt_; // a new connection was made and brought no media yet
};

} // namespace rc::gateway
