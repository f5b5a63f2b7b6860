// libFuzzer target: the INI config loader with a drop-in, through both daemons' option parsers.
//
// The input is a config file and, after a line "--", one drop-in; both are
// written to a private temporary directory because the loader reads files.
#include "common/base/config_loader.h"
#include "common/base/startup_error.h"
#include "gateway/app/gateway_options.h"
#include "signaling/signal_options.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace {

const std::string &workDir()
{
    static const std::string dir = [] {
        std::string tmpl
            = std::filesystem::temp_directory_path().string() + "/rc-fuzz-config-XXXXXX";
        if (!mkdtemp(tmpl.data()))
            std::abort();
        std::filesystem::create_directories(tmpl + "/roomcast.conf.d");
        return tmpl;
    }();
    return dir;
}

void writeFile(const std::string &path, std::string_view text)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view input(reinterpret_cast<const char *>(data), size);
    const size_t cut = input.find("\n--\n");
    const std::string config = workDir() + "/roomcast.conf";
    const std::string dropIn = workDir() + "/roomcast.conf.d/50-fuzz.conf";
    writeFile(config, input.substr(0, cut));
    if (cut == std::string_view::npos)
        std::filesystem::remove(dropIn);
    else
        writeFile(dropIn, input.substr(cut + 4));

    const char *const argv[] = { "roomcast", "--config", config.c_str() };
    try {
        (void)rc::gateway::parseGatewayOptions(3, argv);
    } catch (const rc::StartupError &) {
        // a refused config: the documented start-up failure
    }
    try {
        (void)rc::signaling::parseSignalOptions(3, argv);
    } catch (const rc::StartupError &) { }
    return 0;
}
