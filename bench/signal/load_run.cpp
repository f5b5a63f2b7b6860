// Shard threads, the shared schedule and the merged result; see load_run.h.
#include "load_run.h"

#include "bench_clock.h"
#include "common/base/log.h"

#include <sys/resource.h>
#include <unistd.h>

#include <barrier>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

namespace rc::bench {
namespace {

uint64_t secondsToNs(double s)
{
    return static_cast<uint64_t>(s * 1e9);
}

void sleepUntil(uint64_t deadlineNs)
{
    const uint64_t now = monotonicNs();
    if (deadlineNs > now)
        std::this_thread::sleep_for(std::chrono::nanoseconds(deadlineNs - now));
}

double selfCpuSeconds()
{
    rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval &t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// utime + stime of another process from /proc/PID/stat; -1 when unreadable.
double processCpuSeconds(int pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line))
        return -1;
    // The command name may contain spaces; the fields after it start at field 3.
    const size_t paren = line.rfind(')');
    if (paren == std::string::npos)
        return -1;
    std::istringstream fields(line.substr(paren + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {
        if (i == 14) {
            utime = std::stoull(field);
        } else if (i == 15) {
            stime = std::stoull(field);
            break;
        }
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// Seconds the threads of process pid have spent runnable but waiting for a
// CPU, summed from /proc/PID/task/*/schedstat; -1 when unreadable. On a shared
// machine this tells a slow process from a starved one.
// VmRSS and VmHWM of a process in KiB (-1 if unknown).
std::pair<long, long> memoryKiB(int pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    long rss = -1, hwm = -1;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            rss = std::strtol(line.c_str() + 6, nullptr, 10);
        else if (line.rfind("VmHWM:", 0) == 0)
            hwm = std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return { rss, hwm };
}

// Callgrind's client requests, for --callgrind: zero the counters at the window's start and
// dump them at its end, so that the dump holds the window only.
void callgrindControl(int pid, const char *option)
{
    const std::string cmd = std::string("callgrind_control ") + option + " " + std::to_string(pid)
        + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0)
        RC_LOG_WARN("%s failed", cmd.c_str());
}

double runQueueWaitSeconds(const std::string &pid)
{
    std::error_code ec;
    double total = 0;
    bool any = false;
    for (const auto &task : std::filesystem::directory_iterator("/proc/" + pid + "/task", ec)) {
        std::ifstream in(task.path() / "schedstat");
        unsigned long long onCpuNs = 0, waitNs = 0;
        if (in >> onCpuNs >> waitNs) {
            total += double(waitNs) / 1e9;
            any = true;
        }
    }
    return any ? total : -1;
}

} // namespace

LoadRun::LoadRun(LoadOptions options)
    : options_(std::move(options))
{ }

LoadRun::CpuSnapshot LoadRun::cpuSnapshot() const
{
    CpuSnapshot s;
    s.wallNs = monotonicNs();
    s.clientS = selfCpuSeconds();
    s.clientWaitS = runQueueWaitSeconds("self");
    if (options_.serverPid > 0) {
        s.serverS = processCpuSeconds(options_.serverPid);
        s.serverWaitS = runQueueWaitSeconds(std::to_string(options_.serverPid));
    }
    return s;
}

std::variant<LoadResult, std::string> LoadRun::run()
{
    const Layout layout = Layout::build(options_.connections, options_.roomSize, options_.threads);
    std::vector<std::unique_ptr<LoadShard>> shards;
    for (unsigned s = 0; s < layout.shards; ++s)
        shards.push_back(std::make_unique<LoadShard>(s, options_, layout));

    // Three meeting points: set-up done, schedule published, load drained.
    // Every shard reaches each of them whatever happened, so none can hang.
    std::barrier sync(static_cast<std::ptrdiff_t>(layout.shards + 1));
    Schedule schedule;
    std::vector<std::thread> threads;
    for (auto &shard : shards) {
        threads.emplace_back([&sync, &schedule, s = shard.get()] {
            s->setUp();
            sync.arrive_and_wait();
            sync.arrive_and_wait();
            if (!schedule.abort)
                s->load(schedule);
            sync.arrive_and_wait();
            s->tearDown();
        });
    }

    sync.arrive_and_wait();
    std::string error;
    for (auto &shard : shards)
        if (error.empty() && !shard->error().empty())
            error = shard->error();
    schedule.abort = !error.empty();
    if (!schedule.abort) {
        RC_LOG_INFO("%zu members in %u rooms ready (%u senders, %u shard%s)", layout.memberCount(),
            layout.rooms, layout.senders, layout.shards, layout.shards == 1 ? "" : "s");
        // A short pause lets the last joins' peer-joined announcements drain.
        schedule.startNs = monotonicNs() + secondsToNs(0.3);
        schedule.windowStartNs = schedule.startNs + secondsToNs(options_.warmupS);
        schedule.windowEndNs = schedule.windowStartNs + secondsToNs(options_.durationS);
        schedule.drainEndNs = schedule.windowEndNs + secondsToNs(options_.drainS);
    }
    sync.arrive_and_wait();

    CpuSnapshot start, end;
    std::pair<long, long> serverMemory { -1, -1 };
    if (!schedule.abort) {
        sleepUntil(schedule.windowStartNs);
        if (options_.callgrind && options_.serverPid > 0)
            callgrindControl(options_.serverPid, "-z");
        start = cpuSnapshot();
        sleepUntil(schedule.windowEndNs);
        end = cpuSnapshot();
        if (options_.callgrind && options_.serverPid > 0)
            callgrindControl(options_.serverPid, "--dump");
        if (options_.serverPid > 0)
            serverMemory = memoryKiB(options_.serverPid);
    }
    sync.arrive_and_wait();
    for (auto &t : threads)
        t.join();
    if (schedule.abort)
        return error;

    LoadResult r;
    r.options = options_;
    r.layout = layout;
    r.windowS = double(schedule.windowEndNs - schedule.windowStartNs) / 1e9;
    LatencyStats latency;
    for (auto &shard : shards) {
        r.counters.add(shard->counters());
        latency.absorb(shard->latency());
    }
    const auto &c = r.counters;
    r.lost = c.sentInWindow > c.deliveredOfWindow ? c.sentInWindow - c.deliveredOfWindow : 0;
    r.sendRate = double(c.sentInWindow) / r.windowS;
    r.forwardRate = double(c.receivedInWindow) / r.windowS;
    r.latency = latency.summarize();
    r.serverRssKiB = serverMemory.first;
    r.serverPeakRssKiB = serverMemory.second;
    const double wallS = double(end.wallNs - start.wallNs) / 1e9;
    if (wallS > 0) {
        r.clientCpu = (end.clientS - start.clientS) / wallS;
        if (start.clientWaitS >= 0 && end.clientWaitS >= 0)
            r.clientRunQueueWait = (end.clientWaitS - start.clientWaitS) / wallS;
        if (start.serverS >= 0 && end.serverS >= 0)
            r.serverCpu = (end.serverS - start.serverS) / wallS;
        if (start.serverWaitS >= 0 && end.serverWaitS >= 0)
            r.serverRunQueueWait = (end.serverWaitS - start.serverWaitS) / wallS;
    }
    return r;
}

} // namespace rc::bench
