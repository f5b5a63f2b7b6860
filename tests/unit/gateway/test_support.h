// Small helpers shared by the gateway config/template tests: temp folders, files, gst_init.
#pragma once

#include "common/gst/gst_ptr.h"

#include <gst/gst.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

namespace rc::test {

// A fresh folder under $TMPDIR, removed with everything in it at scope exit.
class TempDir
{
public:
    TempDir()
    {
        std::string tmpl
            = (std::filesystem::temp_directory_path() / "roomcast-test-XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }
    std::string operator/(const std::string &name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

inline void writeFile(const std::string &path, const std::string &text)
{
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

inline std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void ensureGstInit()
{
    gst_init(nullptr, nullptr);
}

// gst_init, then, if one of these element factories is not installed, names it on stderr and
// exits 77 (meson: skipped) before the test can fail for a reason that is not its own.
void requireElementsOrSkip(std::initializer_list<const char *> factories);

// The element named name inside bin (borrowed), with a reference of its own; nullptr if none.
inline GPtr<GstElement> child(GstElement *bin, const char *name)
{
    return adopt(gst_bin_get_by_name(GST_BIN(bin), name));
}

// Runs argv[0] (searched in $PATH) and waits; stdout goes to out. True on exit status 0.
bool runCommand(const std::vector<std::string> &argv, std::string &out);

// The source tree's pipelines/ folder (ROOMCAST_SOURCE_ROOT from roomcast-config.h).
std::string sourcePipelinesDir();

} // namespace rc::test
