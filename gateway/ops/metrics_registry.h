// Prometheus counters and gauges with labels, and their text exposition (format 0.0.4).
//
// One MetricsRegistry per process, owned by main() and outliving everything
// that holds a handle (handles keep their own cell alive, so a late increment
// after a series was removed is harmless). Thread-safe: Counter/Gauge updates
// are lock-free atomics usable from streaming threads; registering families,
// creating or removing series and render() take a mutex.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rc::ops {

enum class MetricType { counter, gauge };

using MetricCell = std::atomic<double>;

// A monotonically increasing count. A default-constructed handle is detached:
// updates go nowhere.
class Counter
{
public:
    Counter() = default;
    explicit Counter(std::shared_ptr<MetricCell> cell)
        : cell_(std::move(cell))
    { }
    void inc(double by = 1.0) noexcept; // negative amounts are ignored
    // Mirrors a total counted elsewhere (e.g. webrtcbin's packetsLost): the
    // value becomes total unless that would lower it.
    void mirror(double total) noexcept;
    double value() const noexcept;

private:
    std::shared_ptr<MetricCell> cell_;
};

// A value that goes up and down.
class Gauge
{
public:
    Gauge() = default;
    explicit Gauge(std::shared_ptr<MetricCell> cell)
        : cell_(std::move(cell))
    { }
    void set(double v) noexcept;
    void inc(double by = 1.0) noexcept;
    void dec(double by = 1.0) noexcept { inc(-by); }
    double value() const noexcept;

private:
    std::shared_ptr<MetricCell> cell_;
};

struct MetricFamilyData; // defined in metrics_registry.cpp

// A labelled family; with(values) finds or creates one series.
template <typename Handle> class Family
{
public:
    Family() = default;
    explicit Family(std::shared_ptr<MetricFamilyData> data)
        : data_(std::move(data))
    { }
    // One value per label name, in declaration order. A wrong count logs an
    // error and returns a detached handle (a bug, but never a crash). Takes
    // the family mutex: keep the handle on hot paths (per packet).
    Handle with(const std::vector<std::string> &labelValues) const;
    // Forgets a series (e.g. a finished output's bytes); no-op if absent.
    void remove(const std::vector<std::string> &labelValues) const;
    size_t seriesCount() const;

private:
    std::shared_ptr<MetricFamilyData> data_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;

class MetricsRegistry
{
public:
    MetricsRegistry();
    ~MetricsRegistry();
    MetricsRegistry(const MetricsRegistry &) = delete;
    MetricsRegistry &operator=(const MetricsRegistry &) = delete;

    // Registers a family, or returns the existing one when name, type, help
    // and label names all match. Start-up code: throws std::invalid_argument
    // for a name outside [a-zA-Z_:][a-zA-Z0-9_:]*, a label name outside
    // [a-zA-Z_][a-zA-Z0-9_]* (or starting "__"), a counter whose name does
    // not end in "_total", or a clash with an existing family.
    CounterFamily counterFamily(const std::string &name, const std::string &help,
        const std::vector<std::string> &labelNames);
    GaugeFamily gaugeFamily(const std::string &name, const std::string &help,
        const std::vector<std::string> &labelNames);
    // Unlabelled shortcuts (the one series exists from the start, at 0).
    Counter counter(const std::string &name, const std::string &help);
    Gauge gauge(const std::string &name, const std::string &help);

    // fn runs at the start of every render(), on the rendering thread and
    // without the registry's lock, to refresh values sampled on demand
    // (process stats, room counts). It must not throw.
    void addCollector(std::function<void()> fn);

    // The text exposition: families sorted by name, each with # HELP and
    // # TYPE, series sorted by label values.
    std::string render() const;

    static bool isValidMetricName(const std::string &name) noexcept;
    static bool isValidLabelName(const std::string &name) noexcept;
    static std::string escapeLabelValue(const std::string &value);
    static std::string escapeHelp(const std::string &help);
    static std::string formatValue(double v);

    // The content type of render()'s output.
    static constexpr const char *contentType = "text/plain; version=0.0.4; charset=utf-8";

private:
    std::shared_ptr<MetricFamilyData> family(MetricType type, const std::string &name,
        const std::string &help, const std::vector<std::string> &labelNames);

    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<MetricFamilyData>> families_;
    std::vector<std::function<void()>> collectors_;
};

} // namespace rc::ops
