// A strict parser of the Prometheus text exposition format 0.0.4, for tests that check /metrics
// output.
//
// Pure code, any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rc::test {

struct Sample
{
    std::string name;
    std::map<std::string, std::string> labels; // unescaped values
    double value = 0;
};

struct MetricFamilyText
{
    std::string name;
    std::string type; // counter, gauge, histogram, summary, untyped
    std::string help; // unescaped
    bool hasHelp = false;
    std::vector<Sample> samples;
};

struct Exposition
{
    std::map<std::string, MetricFamilyText> families;
    std::vector<std::string> order; // families in order of appearance

    // The value of the sample with exactly these labels; nullopt if absent.
    std::optional<double> value(
        const std::string &name, const std::map<std::string, std::string> &labels = {}) const;
};

// Parses text; on the first violation returns nullopt and sets error to
// "line N: what". Beyond the format itself it enforces the Prometheus naming
// conventions roomcast promises: a TYPE line before every family's samples,
// counters named *_total with non-negative values.
std::optional<Exposition> parseExposition(const std::string &text, std::string &error);

} // namespace rc::test
