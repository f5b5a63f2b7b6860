// /proc parsing for the process_* metrics; see process_stats.h.
#include "gateway/ops/process_stats.h"

#include "common/base/gptr.h"
#include "gateway/ops/metrics_registry.h"

#include <glib.h>
#include <unistd.h>

#include <charconv>
#include <string>
#include <vector>

namespace rc::ops {
namespace {

std::optional<uint64_t> toU64(std::string_view s)
{
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size())
        return std::nullopt;
    return v;
}

std::optional<std::string> readFile(const char *path)
{
    char *contents = nullptr;
    gsize length = 0;
    if (!g_file_get_contents(path, &contents, &length, nullptr))
        return std::nullopt;
    std::string out(contents, length);
    g_free(contents);
    return out;
}

uint64_t countOpenFds()
{
    GDir *dir = g_dir_open("/proc/self/fd", 0, nullptr);
    if (!dir)
        return 0;
    uint64_t n = 0;
    while (g_dir_read_name(dir))
        ++n;
    g_dir_close(dir);
    return n > 0 ? n - 1 : 0; // minus the descriptor g_dir_open itself holds
}

} // namespace

std::optional<ProcStat> parseProcStat(std::string_view text, long ticksPerSecond)
{
    if (ticksPerSecond <= 0)
        return std::nullopt;
    const auto close = text.rfind(')');
    if (close == std::string_view::npos)
        return std::nullopt;
    // Fields from 3 (state) on, split on single spaces.
    std::vector<std::string_view> fields;
    std::string_view rest = text.substr(close + 1);
    while (!rest.empty()) {
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n'))
            rest.remove_prefix(1);
        if (rest.empty())
            break;
        auto end = rest.find_first_of(" \n");
        fields.push_back(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    // fields[0] is field 3; field N is fields[N - 3].
    auto field = [&](size_t n) -> std::optional<uint64_t> {
        return n - 3 < fields.size() ? toU64(fields[n - 3]) : std::nullopt;
    };
    auto utime = field(14), stime = field(15), threads = field(20), start = field(22),
         vsize = field(23), rss = field(24);
    if (!utime || !stime || !threads || !start || !vsize || !rss)
        return std::nullopt;
    ProcStat s;
    s.cpuSeconds = static_cast<double>(*utime + *stime) / static_cast<double>(ticksPerSecond);
    s.threads = *threads;
    s.startTicks = *start;
    s.virtualBytes = *vsize;
    s.residentPages = *rss;
    return s;
}

std::optional<uint64_t> parseBootTime(std::string_view text)
{
    size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        std::string_view line
            = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
        if (line.rfind("btime ", 0) == 0)
            return toU64(line.substr(6));
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    return std::nullopt;
}

std::optional<ProcessStats> readProcessStats()
{
    const long ticks = sysconf(_SC_CLK_TCK);
    const long pageSize = sysconf(_SC_PAGESIZE);
    auto statText = readFile("/proc/self/stat");
    if (!statText)
        return std::nullopt;
    auto stat = parseProcStat(*statText, ticks);
    if (!stat)
        return std::nullopt;
    ProcessStats out;
    out.cpuSeconds = stat->cpuSeconds;
    out.residentBytes = stat->residentPages * static_cast<uint64_t>(pageSize > 0 ? pageSize : 4096);
    out.virtualBytes = stat->virtualBytes;
    out.threads = stat->threads;
    if (auto procStat = readFile("/proc/stat"))
        if (auto boot = parseBootTime(*procStat))
            out.startTimeSeconds = static_cast<double>(*boot)
                + static_cast<double>(stat->startTicks) / static_cast<double>(ticks);
    out.openFds = countOpenFds();
    return out;
}

void registerProcessMetrics(MetricsRegistry &registry)
{
    auto cpu = registry.counter(
        "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
    auto rss = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
    auto vsz = registry.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
    auto start = registry.gauge(
        "process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
    auto fds = registry.gauge("process_open_fds", "Number of open file descriptors.");
    auto threads = registry.gauge("process_threads", "Number of OS threads in the process.");
    registry.addCollector([=]() mutable {
        auto s = readProcessStats();
        if (!s)
            return;
        cpu.mirror(s->cpuSeconds);
        rss.set(static_cast<double>(s->residentBytes));
        vsz.set(static_cast<double>(s->virtualBytes));
        start.set(s->startTimeSeconds);
        fds.set(static_cast<double>(s->openFds));
        threads.set(static_cast<double>(s->threads));
    });
}

} // namespace rc::ops
