// Layered options: an INI config file, its conf.d/ drop-ins, then the command line.
//
// Boost.Program_options' own config parser reports neither file nor line and
// cannot layer drop-ins, so files are read here and their values handed to
// Boost one option at a time, which keeps every error tied to file:line.
// Start-up code only: every failure throws rc::StartupError (64 for the command
// line, 78 for a config file).
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace rc::config {

namespace po = boost::program_options;

// One "key = value" line of an INI file. A key inside "[section]" is
// "section.key", as Boost names it.
struct Entry
{
    std::string key;
    std::string value;
    std::string file;
    int line = 0;
};

// Reads one INI file: "key = value", "# comment", "; comment", "[section]".
std::vector<Entry> readIniFile(const std::string &path);

// The *.conf files of a drop-in directory in lexical order; an absent
// directory has none.
std::vector<std::string> dropInFiles(const std::string &dir);

// Parses argv against cliDesc (every option the program takes); errors -> 64.
po::parsed_options parseCommandLine(int argc, const char *const argv[],
    const po::options_description &cliDesc,
    const po::positional_options_description *positional = nullptr);

// Stores the command line, then every file layer (earliest first; a later
// layer replaces all values of a key an earlier one set, and the command line
// replaces them all). Keys must be known to fileDesc; errors -> 78 with
// file:line. Does not call po::notify.
void storeLayered(po::variables_map &vm, const po::parsed_options &commandLine,
    const po::options_description &fileDesc, const std::vector<std::vector<Entry>> &layers);

} // namespace rc::config
