// An output's life cycle: its legal moves, final states, API names and retry schedule.
#include "gateway/output/output_fault.h"
#include "gateway/output/output_state.h"

#include <gst/gst.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace rc::gateway;
using std::chrono::milliseconds;
using S = OutputState;

namespace {

const std::vector<S> kAll { S::starting, S::running, S::retrying, S::finishing, S::finished,
    S::failed };

// Every arrow of the diagram in output_state.h, and no other.
const std::set<std::pair<S, S>> kLegal {
    { S::starting, S::running },
    { S::starting, S::retrying },
    { S::starting, S::finishing },
    { S::starting, S::finished },
    { S::starting, S::failed },
    { S::running, S::retrying },
    { S::running, S::finishing },
    { S::running, S::finished },
    { S::running, S::failed },
    { S::retrying, S::running },
    { S::retrying, S::finishing },
    { S::retrying, S::finished },
    { S::retrying, S::failed },
    { S::finishing, S::finished },
    { S::finishing, S::failed },
};

// A life cycle brought to state through legal moves.
OutputLifecycle at(S state)
{
    OutputLifecycle life;
    switch (state) {
    case S::starting:
        break;
    case S::running:
        REQUIRE(life.moveTo(S::running));
        break;
    case S::retrying:
        REQUIRE(life.moveTo(S::retrying));
        break;
    case S::finishing:
        REQUIRE(life.moveTo(S::finishing));
        break;
    case S::finished:
        REQUIRE(life.moveTo(S::finished));
        break;
    case S::failed:
        REQUIRE(life.moveTo(S::failed));
        break;
    }
    REQUIRE(life.state() == state);
    return life;
}

} // namespace

TEST_CASE("an output starts in starting, live", "[output_state]")
{
    OutputLifecycle life;
    CHECK(life.state() == S::starting);
    CHECK(life.live());
    CHECK_FALSE(life.ended());
    CHECK_FALSE(life.finishing());
    CHECK(life.failure().empty());
}

TEST_CASE("every legal move is taken, every other refused without a change", "[output_state]")
{
    for (S from : kAll) {
        for (S to : kAll) {
            const bool legal = kLegal.count({ from, to }) > 0;
            INFO(outputStateName(from) << " -> " << outputStateName(to));
            CHECK(OutputLifecycle::legal(from, to) == legal);
            OutputLifecycle life = at(from);
            CHECK(life.moveTo(to) == legal);
            CHECK(life.state() == (legal ? to : from));
        }
    }
}

TEST_CASE("the life cycle of a network output that reconnects, then is stopped", "[output_state]")
{
    OutputLifecycle life;
    CHECK(life.moveTo(S::running)); // first buffer
    CHECK_FALSE(life.moveTo(S::running)); // a later participant's first buffer: no move
    CHECK(life.moveTo(S::retrying)); // its server went away
    CHECK_FALSE(life.moveTo(S::retrying)); // a second instance failing meanwhile
    CHECK(life.moveTo(S::running)); // rebuilt and sending again
    CHECK(life.moveTo(S::finishing)); // stopOutput
    CHECK(life.finishing());
    CHECK(life.live());
    CHECK_FALSE(life.moveTo(S::finishing)); // a second stop waits for the first
    CHECK_FALSE(life.moveTo(S::running)); // a late first buffer does not undo the stop
    CHECK_FALSE(life.moveTo(S::retrying)); // nor does an error
    CHECK(life.end() == S::finished);
    CHECK(life.ended());
    CHECK_FALSE(life.live());
}

TEST_CASE("finished and failed are final", "[output_state]")
{
    for (S end : { S::finished, S::failed }) {
        INFO(outputStateName(end));
        CHECK(isFinal(end));
        OutputLifecycle life = at(end);
        for (S to : kAll)
            CHECK_FALSE(life.moveTo(to));
        CHECK(life.state() == end);
        CHECK(life.end("late error") == end); // ending again changes nothing
        CHECK(life.state() == end);
    }
    for (S live : { S::starting, S::running, S::retrying, S::finishing })
        CHECK_FALSE(isFinal(live));
}

TEST_CASE("end: failed with a reason, finished without, finished when stopping", "[output_state]")
{
    for (S from : { S::starting, S::running, S::retrying }) {
        INFO(outputStateName(from));
        OutputLifecycle failing = at(from);
        CHECK(failing.end("sink error") == S::failed);
        CHECK(failing.failure() == "sink error");
        OutputLifecycle ending = at(from);
        CHECK(ending.end() == S::finished);
        CHECK(ending.failure().empty());
    }
    // A stop was asked: an error while closing does not turn it into a failure.
    OutputLifecycle stopping = at(S::finishing);
    CHECK(stopping.end("error while closing") == S::finished);
    CHECK(stopping.failure().empty());
}

TEST_CASE("the API's and the logs' words for each state", "[output_state]")
{
    CHECK(std::string(outputStateName(S::starting)) == "starting");
    CHECK(std::string(outputStateName(S::running)) == "running");
    CHECK(std::string(outputStateName(S::retrying)) == "retrying");
    CHECK(std::string(outputStateName(S::finishing)) == "finishing");
    CHECK(std::string(outputStateName(S::finished)) == "finished");
    CHECK(std::string(outputStateName(S::failed)) == "failed");
    // docs/openapi.yaml Output.state: [starting, running, retrying, finalizing, finished, failed]
    CHECK(std::string(apiOutputState(S::starting)) == "starting");
    CHECK(std::string(apiOutputState(S::running)) == "running");
    CHECK(std::string(apiOutputState(S::retrying)) == "retrying");
    CHECK(std::string(apiOutputState(S::finishing)) == "finalizing");
    CHECK(std::string(apiOutputState(S::finished)) == "finished");
    CHECK(std::string(apiOutputState(S::failed)) == "failed");
}

TEST_CASE("a network output retries after 250 ms, 500 ms, 1 s, then every 2 s", "[output_state]")
{
    rc::Backoff backoff = networkOutputBackoff();
    const auto t0 = rc::Backoff::Clock::time_point {} + std::chrono::hours(1);
    backoff.started(t0);
    // Failures in a row, each soon after the last attempt began.
    std::vector<milliseconds> delays;
    auto now = t0;
    for (int i = 0; i < 6; ++i) {
        now += milliseconds(100);
        delays.push_back(backoff.next(now));
        backoff.started(now + delays.back());
        now += delays.back();
    }
    CHECK(delays
        == std::vector<milliseconds> { milliseconds(250), milliseconds(500), milliseconds(1000),
            milliseconds(2000), milliseconds(2000), milliseconds(2000) });
}

TEST_CASE("a network output that ran 10 s retries from 250 ms again", "[output_state]")
{
    rc::Backoff backoff = networkOutputBackoff();
    const auto t0 = rc::Backoff::Clock::time_point {} + std::chrono::hours(1);
    for (int i = 0; i < 4; ++i)
        backoff.next(t0);
    CHECK(backoff.peek() == milliseconds(2000));
    // Rebuilt, ran just under 10 s: still backing off.
    backoff.started(t0);
    CHECK(backoff.next(t0 + milliseconds(9999)) == milliseconds(2000));
    // Rebuilt, ran 10 s: a healthy run, the schedule starts over.
    backoff.started(t0 + milliseconds(20000));
    CHECK(backoff.next(t0 + milliseconds(30000)) == milliseconds(250));
    CHECK(backoff.next(t0 + milliseconds(30300)) == milliseconds(500));
}

TEST_CASE("a file output's disk faults are told apart from other errors", "[output][disk]")
{
    const GQuark resource = GST_RESOURCE_ERROR;
    CHECK(classifyOutputError(resource, GST_RESOURCE_ERROR_NO_SPACE_LEFT, "")
        == OutputFault::diskFull);
    CHECK(
        classifyOutputError(resource, GST_RESOURCE_ERROR_WRITE, "system error: Input/output error")
        == OutputFault::diskError);
    // filesink's WRITE error for ENOSPC through fflush says so only in its debug text.
    CHECK(classifyOutputError(
              resource, GST_RESOURCE_ERROR_WRITE, "system error: No space left on device")
        == OutputFault::diskFull);
    CHECK(classifyOutputError(GST_STREAM_ERROR, GST_STREAM_ERROR_MUX, "Could not multiplex stream")
        == OutputFault::other);
    CHECK(classifyOutputError(resource, GST_RESOURCE_ERROR_NOT_FOUND, "") == OutputFault::other);
    // A bus ERROR as both scopes read it (RoomMixer hands the room's outputs a BusProblem).
    rc::BusProblem problem;
    problem.domain = resource;
    problem.code = GST_RESOURCE_ERROR_NO_SPACE_LEFT;
    CHECK(classifyOutputError(problem) == OutputFault::diskFull);
    problem.code = GST_RESOURCE_ERROR_NOT_FOUND;
    CHECK(classifyOutputError(problem) == OutputFault::other);
    CHECK(
        describeOutputFault(OutputFault::diskFull, "/rec/p1.mkv", "No space left on the resource.")
        == "no space left on device: /rec/p1.mkv");
    CHECK(describeOutputFault(OutputFault::other, "/rec/p1.mkv", "boom") == "boom");
    CHECK(std::string(outputFaultName(OutputFault::diskFull)) == "disk-full");
}

TEST_CASE("a file output's retry schedule waits longer than a network output's", "[output][disk]")
{
    auto b = fileOutputBackoff();
    const auto t = rc::Backoff::Clock::now();
    CHECK(b.next(t) == milliseconds(500));
    CHECK(b.next(t) == milliseconds(1000));
    CHECK(b.next(t) == milliseconds(2000));
    CHECK(b.next(t) == milliseconds(4000));
    CHECK(b.next(t) == milliseconds(4000));
}
