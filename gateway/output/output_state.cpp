// An output's states, their names and legal moves; see output_state.h.
#include "gateway/output/output_state.h"

namespace rc::gateway {

const char *outputStateName(OutputState state) noexcept
{
    switch (state) {
    case OutputState::starting:
        return "starting";
    case OutputState::running:
        return "running";
    case OutputState::retrying:
        return "retrying";
    case OutputState::finishing:
        return "finishing";
    case OutputState::finished:
        return "finished";
    case OutputState::failed:
        return "failed";
    }
    return "running";
}

const char *apiOutputState(OutputState state) noexcept
{
    return state == OutputState::finishing ? "finalizing" : outputStateName(state);
}

bool OutputLifecycle::legal(OutputState from, OutputState to) noexcept
{
    using S = OutputState;
    switch (from) {
    case S::starting:
        return to == S::running || to == S::retrying || to == S::finishing || isFinal(to);
    case S::running:
        return to == S::retrying || to == S::finishing || isFinal(to);
    case S::retrying:
        return to == S::running || to == S::finishing || isFinal(to);
    case S::finishing:
        return isFinal(to);
    case S::finished:
    case S::failed:
        return false;
    }
    return false;
}

bool OutputLifecycle::moveTo(OutputState next) noexcept
{
    if (!legal(state_, next))
        return false;
    state_ = next;
    return true;
}

OutputState OutputLifecycle::end(const std::string &failure)
{
    if (ended())
        return state_;
    if (!failure.empty() && !finishing()) {
        failure_ = failure;
        state_ = OutputState::failed;
    } else {
        state_ = OutputState::finished;
    }
    return state_;
}

rc::Backoff networkOutputBackoff()
{
    using std::chrono::milliseconds;
    return rc::Backoff(milliseconds(250), milliseconds(2000), milliseconds(10000));
}

rc::Backoff fileOutputBackoff()
{
    using std::chrono::milliseconds;
    return rc::Backoff(milliseconds(500), milliseconds(4000), milliseconds(30000));
}

} // namespace rc::gateway
