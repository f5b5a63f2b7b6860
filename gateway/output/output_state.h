// One output's life cycle as a typed state machine: its states, the API's names for them, which
// moves are legal, and the retry schedules of network and file outputs.
//
// Pure values, no GStreamer; owned by whoever runs the output (RoomOutputs) and used on its
// thread. A room's output is long-lived and owns its retries; each attempt is one template
// instance (MediaMTX's recorder and recorder instance): this machine is the long-lived part.
#pragma once

#include "common/base/backoff.h"

#include <string>

namespace rc::gateway {

//   starting --first buffer--> running --network/disk error--> retrying --rebuilt, buffer-->
//   running starting --network/disk error--> retrying starting | running | retrying --stop-->
//   finishing --closed--> finished any live state --ended on its own--> finished, --error--> failed
// finished and failed are final.
enum class OutputState { starting, running, retrying, finishing, finished, failed };

// "starting", "running", "retrying", "finishing", "finished", "failed": the words the logs use.
const char *outputStateName(OutputState state) noexcept;
// The control API's and webhooks' word (docs/openapi.yaml Output.state): the same, except that
// finishing is "finalizing".
const char *apiOutputState(OutputState state) noexcept;
// finished or failed: nothing moves any more.
constexpr bool isFinal(OutputState state) noexcept
{
    return state == OutputState::finished || state == OutputState::failed;
}

class OutputLifecycle
{
public:
    // Whether from -> to is one of the arrows above (a state never moves to itself).
    static bool legal(OutputState from, OutputState to) noexcept;

    OutputState state() const noexcept { return state_; }
    bool ended() const noexcept { return isFinal(state_); }
    bool live() const noexcept { return !ended(); }
    // Stop was asked and it is not over yet.
    bool finishing() const noexcept { return state_ == OutputState::finishing; }
    // Why it failed ("" unless failed).
    const std::string &failure() const noexcept { return failure_; }

    // Moves to next if legal; false, and nothing changes, otherwise (e.g. a late first buffer
    // while finishing, a second stop).
    bool moveTo(OutputState next) noexcept;
    // The end: failed with failure when there is one, finished otherwise. A failure while
    // finishing still ends it finished: the stop was asked, and what was written is what the
    // client asked for. Returns the final state (unchanged if it was already final).
    OutputState end(const std::string &failure = {});

private:
    OutputState state_ = OutputState::starting;
    std::string failure_;
};

// The retry schedule of a network output's instance (a template with a url param): rebuilt after
// 250 ms, 500 ms, 1 s, then every 2 s, so it resumes within a few seconds of its server coming
// back; an attempt that ran 10 s starts the schedule over.
rc::Backoff networkOutputBackoff();

// The retry schedule of a file output whose disk failed (full, I/O error): 500 ms, 1 s, 2 s,
// then every 4 s, so it continues within a few seconds of space being freed without
// hammering a full disk; an attempt that ran 30 s starts the schedule over.
rc::Backoff fileOutputBackoff();

} // namespace rc::gateway
