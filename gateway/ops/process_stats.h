// The process's own CPU time, memory and start time from /proc/self, as Prometheus process_*
// metrics.
//
// Pure parsers (any thread) plus a collector registered on a MetricsRegistry
// (runs on whichever thread renders).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rc::ops {

class MetricsRegistry;

struct ProcessStats
{
    double cpuSeconds = 0; // user + system
    uint64_t residentBytes = 0; // RSS
    uint64_t virtualBytes = 0; // VSZ
    double startTimeSeconds = 0; // since the Unix epoch
    uint64_t openFds = 0;
    uint64_t threads = 0;
};

// Fields of /proc/<pid>/stat (proc(5)); the command name may hold spaces and
// parentheses, so parsing starts after the LAST ')'. startTicks is field 22.
struct ProcStat
{
    double cpuSeconds = 0;
    uint64_t startTicks = 0;
    uint64_t virtualBytes = 0;
    uint64_t residentPages = 0;
    uint64_t threads = 0;
};
std::optional<ProcStat> parseProcStat(std::string_view text, long ticksPerSecond);

// The "btime" line of /proc/stat: boot time in seconds since the epoch.
std::optional<uint64_t> parseBootTime(std::string_view procStatText);

// Reads /proc/self/stat, /proc/stat and /proc/self/fd; nullopt if /proc is unreadable.
std::optional<ProcessStats> readProcessStats();

// Registers process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds
// and process_threads (the names every Prometheus client library uses) and a
// collector that refreshes them at each render.
void registerProcessMetrics(MetricsRegistry &registry);

} // namespace rc::ops
