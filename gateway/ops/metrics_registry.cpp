// Counters, gauges and the Prometheus text format; see metrics_registry.h.
#include "gateway/ops/metrics_registry.h"

#include "common/base/log.h"

#include <glib.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace rc::ops {

struct MetricFamilyData
{
    std::string name;
    std::string help;
    MetricType type = MetricType::counter;
    std::vector<std::string> labelNames;
    mutable std::mutex mutex;
    std::map<std::vector<std::string>, std::shared_ptr<MetricCell>> series;
};

namespace {

void atomicAdd(MetricCell &cell, double by) noexcept
{
    cell.fetch_add(by, std::memory_order_relaxed);
}

// Prometheus requires UTF-8 label values; anything else is repaired, not refused.
std::string validUtf8(const std::string &s)
{
    if (g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr))
        return s;
    char *fixed = g_utf8_make_valid(s.data(), static_cast<gssize>(s.size()));
    std::string out(fixed);
    g_free(fixed);
    return out;
}

std::shared_ptr<MetricCell> seriesCell(
    const std::shared_ptr<MetricFamilyData> &data, const std::vector<std::string> &values)
{
    if (!data)
        return nullptr;
    if (values.size() != data->labelNames.size()) {
        RC_LOG_ERROR("metric %s: %zu label values for %zu labels", data->name.c_str(),
            values.size(), data->labelNames.size());
        return nullptr;
    }
    std::vector<std::string> key;
    key.reserve(values.size());
    for (const auto &v : values)
        key.push_back(validUtf8(v));
    std::lock_guard lock(data->mutex);
    auto &cell = data->series[key];
    if (!cell)
        cell = std::make_shared<MetricCell>(0.0);
    return cell;
}

} // namespace

void Counter::inc(double by) noexcept
{
    if (cell_ && by > 0)
        atomicAdd(*cell_, by);
}

void Counter::mirror(double total) noexcept
{
    if (!cell_)
        return;
    double current = cell_->load(std::memory_order_relaxed);
    while (total > current
        && !cell_->compare_exchange_weak(current, total, std::memory_order_relaxed)) { }
}

double Counter::value() const noexcept
{
    return cell_ ? cell_->load(std::memory_order_relaxed) : 0;
}

void Gauge::set(double v) noexcept
{
    if (cell_)
        cell_->store(v, std::memory_order_relaxed);
}

void Gauge::inc(double by) noexcept
{
    if (cell_)
        atomicAdd(*cell_, by);
}

double Gauge::value() const noexcept
{
    return cell_ ? cell_->load(std::memory_order_relaxed) : 0;
}

template <typename Handle>
Handle Family<Handle>::with(const std::vector<std::string> &labelValues) const
{
    return Handle(seriesCell(data_, labelValues));
}

template <typename Handle>
void Family<Handle>::remove(const std::vector<std::string> &labelValues) const
{
    if (!data_)
        return;
    std::vector<std::string> key;
    for (const auto &v : labelValues)
        key.push_back(validUtf8(v));
    std::lock_guard lock(data_->mutex);
    data_->series.erase(key);
}

template <typename Handle> size_t Family<Handle>::seriesCount() const
{
    if (!data_)
        return 0;
    std::lock_guard lock(data_->mutex);
    return data_->series.size();
}

template class Family<Counter>;
template class Family<Gauge>;

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

bool MetricsRegistry::isValidMetricName(const std::string &name) noexcept
{
    if (name.empty())
        return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = g_ascii_isalpha(c) || c == '_' || c == ':' || (i > 0 && g_ascii_isdigit(c));
        if (!ok)
            return false;
    }
    return true;
}

bool MetricsRegistry::isValidLabelName(const std::string &name) noexcept
{
    if (name.empty() || name.rfind("__", 0) == 0)
        return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (!(g_ascii_isalpha(c) || c == '_' || (i > 0 && g_ascii_isdigit(c))))
            return false;
    }
    return true;
}

std::string MetricsRegistry::escapeLabelValue(const std::string &value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string MetricsRegistry::escapeHelp(const std::string &help)
{
    std::string out;
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string MetricsRegistry::formatValue(double v)
{
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    // Whole numbers (all counts) print without an exponent up to 2^53.
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else
        std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::shared_ptr<MetricFamilyData> MetricsRegistry::family(MetricType type, const std::string &name,
    const std::string &help, const std::vector<std::string> &labelNames)
{
    if (!isValidMetricName(name))
        throw std::invalid_argument("invalid metric name '" + name + "'");
    if (type == MetricType::counter
        && (name.size() <= 6 || name.compare(name.size() - 6, 6, "_total") != 0))
        throw std::invalid_argument("counter '" + name + "' must end in _total");
    for (const auto &l : labelNames)
        if (!isValidLabelName(l))
            throw std::invalid_argument("metric " + name + ": invalid label name '" + l + "'");
    std::lock_guard lock(mutex_);
    // OpenMetrics names counter "x_total"'s family "x": refuse a second family
    // spelled either way so the output stays unambiguous in both formats.
    const std::string stem = type == MetricType::counter ? name.substr(0, name.size() - 6) : name;
    if ((type == MetricType::counter && families_.count(stem))
        || (type == MetricType::gauge && families_.count(name + "_total")))
        throw std::invalid_argument("metric " + name + " clashes with another family");
    auto it = families_.find(name);
    if (it != families_.end()) {
        const auto &f = *it->second;
        if (f.type != type || f.help != help || f.labelNames != labelNames)
            throw std::invalid_argument("metric " + name + " is already registered differently");
        return it->second;
    }
    auto data = std::make_shared<MetricFamilyData>();
    data->name = name;
    data->help = help;
    data->type = type;
    data->labelNames = labelNames;
    if (labelNames.empty())
        data->series[{}] = std::make_shared<MetricCell>(0.0);
    families_.emplace(name, data);
    return data;
}

CounterFamily MetricsRegistry::counterFamily(
    const std::string &name, const std::string &help, const std::vector<std::string> &labelNames)
{
    return CounterFamily(family(MetricType::counter, name, help, labelNames));
}

GaugeFamily MetricsRegistry::gaugeFamily(
    const std::string &name, const std::string &help, const std::vector<std::string> &labelNames)
{
    return GaugeFamily(family(MetricType::gauge, name, help, labelNames));
}

Counter MetricsRegistry::counter(const std::string &name, const std::string &help)
{
    return counterFamily(name, help, {}).with({});
}

Gauge MetricsRegistry::gauge(const std::string &name, const std::string &help)
{
    return gaugeFamily(name, help, {}).with({});
}

void MetricsRegistry::addCollector(std::function<void()> fn)
{
    std::lock_guard lock(mutex_);
    collectors_.push_back(std::move(fn));
}

std::string MetricsRegistry::render() const
{
    std::vector<std::function<void()>> collectors;
    std::vector<std::shared_ptr<MetricFamilyData>> families;
    {
        std::lock_guard lock(mutex_);
        collectors = collectors_;
        for (const auto &[name, data] : families_)
            families.push_back(data);
    }
    for (const auto &fn : collectors) {
        try {
            fn();
        } catch (...) {
            RC_LOG_ERROR("a metrics collector threw; its values may be stale");
        }
    }
    std::string out;
    for (const auto &f : families) {
        out += "# HELP " + f->name + " " + escapeHelp(f->help) + "\n";
        out += "# TYPE " + f->name + (f->type == MetricType::counter ? " counter\n" : " gauge\n");
        std::lock_guard lock(f->mutex);
        for (const auto &[values, cell] : f->series) {
            out += f->name;
            if (!values.empty()) {
                out += '{';
                for (size_t i = 0; i < values.size(); ++i) {
                    if (i)
                        out += ',';
                    out += f->labelNames[i] + "=\"" + escapeLabelValue(values[i]) + "\"";
                }
                out += '}';
            }
            out += ' ' + formatValue(cell->load(std::memory_order_relaxed)) + '\n';
        }
    }
    return out;
}

} // namespace rc::ops
