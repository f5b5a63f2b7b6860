// INI reading and layered storing of options; see config_loader.h.
#include "common/base/config_loader.h"

#include "common/base/exit_codes.h"
#include "common/base/startup_error.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace rc::config {
namespace {

std::string trim(const std::string &s)
{
    const char *ws = " \t\r\n";
    auto b = s.find_first_not_of(ws);
    if (b == std::string::npos)
        return {};
    auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

std::string where(const Entry &e)
{
    return e.file + ":" + std::to_string(e.line);
}

} // namespace

std::vector<Entry> readIniFile(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        throw StartupError(exitcode::config, path + ": cannot open config file");
    std::vector<Entry> entries;
    std::string raw, section;
    int lineNo = 0;
    while (std::getline(in, raw)) {
        ++lineNo;
        std::string line = trim(raw);
        if (line.empty() || line[0] == '#' || line[0] == ';')
            continue;
        if (line.front() == '[') {
            if (line.back() != ']' || line.size() < 3)
                throw StartupError(exitcode::config,
                    path + ":" + std::to_string(lineNo) + ": malformed section header '" + line
                        + "'");
            section = trim(line.substr(1, line.size() - 2));
            continue;
        }
        auto eq = line.find('=');
        if (eq == std::string::npos)
            throw StartupError(exitcode::config,
                path + ":" + std::to_string(lineNo) + ": expected 'key = value', got '" + line
                    + "'");
        std::string key = trim(line.substr(0, eq));
        if (key.empty())
            throw StartupError(exitcode::config,
                path + ":" + std::to_string(lineNo) + ": missing option name before '='");
        if (!section.empty())
            key = section + "." + key;
        entries.push_back({ key, trim(line.substr(eq + 1)), path, lineNo });
    }
    return entries;
}

std::vector<std::string> dropInFiles(const std::string &dir)
{
    std::vector<std::string> files;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        return files;
    for (const auto &de : std::filesystem::directory_iterator(dir, ec)) {
        if (de.is_regular_file(ec) && de.path().extension() == ".conf")
            files.push_back(de.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

po::parsed_options parseCommandLine(int argc, const char *const argv[],
    const po::options_description &cliDesc, const po::positional_options_description *positional)
{
    try {
        po::command_line_parser parser(argc, argv);
        parser.options(cliDesc);
        if (positional)
            parser.positional(*positional);
        return parser.run();
    } catch (const po::error &e) {
        throw StartupError(exitcode::usage, std::string("command line: ") + e.what());
    }
}

void storeLayered(po::variables_map &vm, const po::parsed_options &commandLine,
    const po::options_description &fileDesc, const std::vector<std::vector<Entry>> &layers)
{
    std::set<std::string> fromCommandLine;
    try {
        po::store(commandLine, vm);
    } catch (const po::error &e) {
        throw StartupError(exitcode::usage, std::string("command line: ") + e.what());
    }
    for (const auto &opt : commandLine.options)
        fromCommandLine.insert(opt.string_key);

    // The last layer that names a key owns all of that key's values.
    std::map<std::string, size_t> owner;
    for (size_t i = 0; i < layers.size(); ++i) {
        for (const auto &e : layers[i]) {
            if (!fileDesc.find_nothrow(e.key, false))
                throw StartupError(exitcode::config, where(e) + ": unknown option '" + e.key + "'");
            owner[e.key] = i;
        }
    }

    for (const auto &[key, layer] : owner) {
        if (fromCommandLine.count(key))
            continue;
        po::parsed_options parsed(&fileDesc);
        const Entry *first = nullptr;
        for (const auto &e : layers[layer]) {
            if (e.key != key)
                continue;
            if (!first)
                first = &e;
            po::option opt;
            opt.string_key = key;
            opt.value.push_back(e.value);
            opt.original_tokens.push_back(key);
            opt.original_tokens.push_back(e.value);
            parsed.options.push_back(std::move(opt));
        }
        try {
            po::store(parsed, vm);
        } catch (const po::error &err) {
            throw StartupError(exitcode::config, where(*first) + ": " + err.what());
        }
    }
}

} // namespace rc::config
