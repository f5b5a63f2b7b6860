// The strict exposition-format parser; see exposition_parser.h.
#include "exposition_parser.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

namespace rc::test {
namespace {

bool isNameStart(char c)
{
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool isNameChar(char c)
{
    return isNameStart(c) || std::isdigit(static_cast<unsigned char>(c));
}
bool isLabelStart(char c)
{
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool isLabelChar(char c)
{
    return isLabelStart(c) || std::isdigit(static_cast<unsigned char>(c));
}

bool validMetricName(const std::string &s)
{
    if (s.empty() || !isNameStart(s[0]))
        return false;
    for (char c : s)
        if (!isNameChar(c))
            return false;
    return true;
}

// Go's strconv.ParseFloat forms that Prometheus accepts, nothing else
// (strtod alone would also take hex floats and "nan(...)", "infinity").
bool parseValue(const std::string &s, double &out)
{
    if (s == "NaN") {
        out = NAN;
        return true;
    }
    if (s == "+Inf" || s == "Inf") {
        out = INFINITY;
        return true;
    }
    if (s == "-Inf") {
        out = -INFINITY;
        return true;
    }
    if (s.empty())
        return false;
    size_t i = 0;
    if (s[i] == '+' || s[i] == '-')
        ++i;
    size_t digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        ++i;
        ++digits;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            ++i;
            ++digits;
        }
    }
    if (digits == 0)
        return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-'))
            ++i;
        size_t exp = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            ++i;
            ++exp;
        }
        if (exp == 0)
            return false;
    }
    if (i != s.size())
        return false;
    char *end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size();
}

bool unescape(const std::string &in, bool allowQuote, std::string &out)
{
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\') {
            out += in[i];
            continue;
        }
        if (++i >= in.size())
            return false;
        if (in[i] == '\\')
            out += '\\';
        else if (in[i] == 'n')
            out += '\n';
        else if (in[i] == '"' && allowQuote)
            out += '"';
        else
            return false;
    }
    return true;
}

} // namespace

std::optional<double> Exposition::value(
    const std::string &name, const std::map<std::string, std::string> &labels) const
{
    for (const auto &[fname, family] : families)
        for (const auto &s : family.samples)
            if (s.name == name && s.labels == labels)
                return s.value;
    return std::nullopt;
}

std::optional<Exposition> parseExposition(const std::string &text, std::string &error)
{
    Exposition out;
    std::set<std::string> closed; // families whose group has ended
    std::string current; // family of the previous line
    std::set<std::string> seriesSeen; // name + canonical labels
    auto fail = [&](size_t line, const std::string &what) -> std::optional<Exposition> {
        error = "line " + std::to_string(line) + ": " + what;
        return std::nullopt;
    };
    if (!text.empty() && text.back() != '\n')
        return fail(0, "text does not end with a newline");

    size_t lineNo = 0, pos = 0;
    while (pos < text.size()) {
        const size_t end = text.find('\n', pos);
        const std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        ++lineNo;
        if (line.find('\r') != std::string::npos)
            return fail(lineNo, "carriage return");
        if (line.empty())
            continue;
        auto enter = [&](const std::string &family) -> bool {
            if (family != current) {
                if (!current.empty())
                    closed.insert(current);
                if (closed.count(family))
                    return false; // a family's lines must form one group
                current = family;
            }
            return true;
        };

        if (line[0] == '#') {
            // "# HELP name text" / "# TYPE name type"; other comments are free.
            if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
                const bool help = line[2] == 'H';
                const std::string rest = line.substr(7);
                const auto sp = rest.find(' ');
                const std::string name = rest.substr(0, sp);
                if (!validMetricName(name))
                    return fail(lineNo, "invalid metric name '" + name + "'");
                if (!enter(name))
                    return fail(lineNo, "family " + name + " is split into several groups");
                auto &family = out.families[name];
                if (family.name.empty()) {
                    family.name = name;
                    out.order.push_back(name);
                }
                if (help) {
                    if (family.hasHelp)
                        return fail(lineNo, "second HELP for " + name);
                    if (sp == std::string::npos)
                        return fail(lineNo, "HELP without text");
                    if (!unescape(rest.substr(sp + 1), false, family.help))
                        return fail(lineNo, "bad escape in HELP");
                    family.hasHelp = true;
                } else {
                    if (!family.type.empty())
                        return fail(lineNo, "second TYPE for " + name);
                    if (!family.samples.empty())
                        return fail(lineNo, "TYPE after samples of " + name);
                    const std::string type = sp == std::string::npos ? "" : rest.substr(sp + 1);
                    if (type != "counter" && type != "gauge" && type != "histogram"
                        && type != "summary" && type != "untyped")
                        return fail(lineNo, "unknown type '" + type + "'");
                    family.type = type;
                    if (type == "counter"
                        && (name.size() <= 6 || name.compare(name.size() - 6, 6, "_total") != 0))
                        return fail(lineNo, "counter " + name + " does not end in _total");
                }
            }
            continue;
        }

        // Sample: name [{labels}] value [timestamp]
        size_t i = 0;
        while (i < line.size() && isNameChar(line[i]))
            ++i;
        Sample sample;
        sample.name = line.substr(0, i);
        if (!validMetricName(sample.name))
            return fail(lineNo, "invalid sample name");
        std::string canonical = sample.name + "{";
        if (i < line.size() && line[i] == '{') {
            ++i;
            bool first = true;
            while (true) {
                if (i >= line.size())
                    return fail(lineNo, "unterminated label set");
                if (line[i] == '}') {
                    if (!first && line[i - 1] == ',')
                        return fail(lineNo, "trailing comma in label set");
                    ++i;
                    break;
                }
                if (!first) {
                    if (line[i] != ',')
                        return fail(lineNo, "expected ',' between labels");
                    ++i;
                }
                first = false;
                const size_t ls = i;
                if (i >= line.size() || !isLabelStart(line[i]))
                    return fail(lineNo, "invalid label name");
                while (i < line.size() && isLabelChar(line[i]))
                    ++i;
                const std::string lname = line.substr(ls, i - ls);
                if (lname.rfind("__", 0) == 0)
                    return fail(lineNo, "reserved label name " + lname);
                if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
                    return fail(lineNo, "expected =\" after label " + lname);
                i += 2;
                std::string raw;
                while (i < line.size() && line[i] != '"') {
                    if (line[i] == '\\' && i + 1 < line.size()) {
                        raw += line[i];
                        ++i;
                    }
                    raw += line[i];
                    ++i;
                }
                if (i >= line.size())
                    return fail(lineNo, "unterminated label value");
                ++i; // closing quote
                std::string value;
                if (!unescape(raw, true, value))
                    return fail(lineNo, "bad escape in label " + lname);
                if (sample.labels.count(lname))
                    return fail(lineNo, "duplicate label " + lname);
                sample.labels[lname] = value;
            }
        }
        for (const auto &[k, v] : sample.labels)
            canonical += k + "=" + v + "\x1f";
        if (i >= line.size() || line[i] != ' ')
            return fail(lineNo, "expected a space before the value");
        const std::string rest = line.substr(i + 1);
        const auto sp = rest.find(' ');
        if (!parseValue(rest.substr(0, sp), sample.value))
            return fail(lineNo, "value '" + rest.substr(0, sp) + "' is not a float");
        if (sp != std::string::npos) {
            const std::string ts = rest.substr(sp + 1);
            if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string::npos)
                return fail(lineNo, "bad timestamp");
        }
        // The family: the sample's own name (counter/gauge/untyped); only
        // histograms and summaries own suffixed samples.
        std::string family = sample.name;
        for (const char *suffix : { "_bucket", "_sum", "_count" }) {
            const std::string sfx = suffix;
            if (sample.name.size() > sfx.size()
                && sample.name.compare(sample.name.size() - sfx.size(), sfx.size(), sfx) == 0) {
                const std::string base = sample.name.substr(0, sample.name.size() - sfx.size());
                auto it = out.families.find(base);
                if (it != out.families.end()
                    && (it->second.type == "histogram" || it->second.type == "summary"))
                    family = base;
            }
        }
        if (!enter(family))
            return fail(lineNo, "family " + family + " is split into several groups");
        auto it = out.families.find(family);
        if (it == out.families.end() || it->second.type.empty())
            return fail(lineNo, "sample of " + family + " before its TYPE line");
        if (it->second.type == "counter" && !(sample.value >= 0))
            return fail(lineNo, "counter " + family + " has a negative or NaN value");
        if (!seriesSeen.insert(canonical).second)
            return fail(lineNo, "duplicate series " + sample.name);
        it->second.samples.push_back(std::move(sample));
    }
    for (const auto &[name, family] : out.families)
        if (family.type.empty())
            return fail(lineNo, "family " + name + " has no TYPE");
    return out;
}

} // namespace rc::test
