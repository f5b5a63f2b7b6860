// Command-line front end of the strict exposition parser, for the Python tests that scrape the real
// gateway's /metrics: reads the text on stdin, prints it as JSON, exits 1 (with the line) if
// invalid.
#include "exposition_parser.h"

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

namespace {

std::string quote(const std::string &s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string number(double v)
{
    if (v != v)
        return "\"NaN\"";
    if (v == 1.0 / 0.0)
        return "\"+Inf\"";
    if (v == -1.0 / 0.0)
        return "\"-Inf\"";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

} // namespace

int main()
{
    const std::string text(
        (std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    std::string error;
    auto parsed = rc::test::parseExposition(text, error);
    if (!parsed) {
        std::cerr << "invalid exposition: " << error << "\n";
        return 1;
    }
    std::string out = "{";
    bool firstFamily = true;
    for (const auto &name : parsed->order) {
        const auto &f = parsed->families.at(name);
        out += (firstFamily ? "" : ",") + quote(name) + ":{\"type\":" + quote(f.type)
            + ",\"help\":" + quote(f.help) + ",\"samples\":[";
        firstFamily = false;
        bool firstSample = true;
        for (const auto &s : f.samples) {
            out += std::string(firstSample ? "" : ",") + "{\"name\":" + quote(s.name)
                + ",\"labels\":{";
            firstSample = false;
            bool firstLabel = true;
            for (const auto &[k, v] : s.labels) {
                out += (firstLabel ? "" : ",") + quote(k) + ":" + quote(v);
                firstLabel = false;
            }
            out += "},\"value\":" + number(s.value) + "}";
        }
        out += "]}";
    }
    out += "}\n";
    std::cout << out;
    return 0;
}
