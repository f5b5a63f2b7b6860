// SnapshotWriter: latest.jpg replaced whole (temporary file + rename), the numbered series and
// its limit, failures that leave the last picture in place.
#include "gateway/output/snapshot_writer.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using rc::gateway::SnapshotWriter;
namespace fs = std::filesystem;

namespace {

struct TempDir
{
    std::string path;
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "snapwriter-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()));
        path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

bool write(SnapshotWriter &w, const std::string &bytes)
{
    std::string why;
    return w.write(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), why);
}

std::vector<std::string> names(const std::string &dir)
{
    std::vector<std::string> out;
    for (const auto &e : fs::directory_iterator(dir))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("latest.jpg is replaced by a new file each time, nothing else is left", "[snapshot]")
{
    TempDir dir;
    SnapshotWriter w(dir.path, 0);
    CHECK(w.latestPath() == dir.path + "/latest.jpg");
    REQUIRE(write(w, "first picture"));
    CHECK(read(w.latestPath()) == "first picture");
    struct stat before
    {
    };
    REQUIRE(::stat(w.latestPath().c_str(), &before) == 0);
    CHECK((before.st_mode & 0777) == 0640);
    // A reader holding the old file keeps reading the old picture: a new inode, not an
    // overwrite in place.
    std::ifstream held(w.latestPath(), std::ios::binary);
    REQUIRE(write(w, "the second, longer picture"));
    struct stat after
    {
    };
    REQUIRE(::stat(w.latestPath().c_str(), &after) == 0);
    CHECK(after.st_ino != before.st_ino);
    CHECK(std::string(std::istreambuf_iterator<char>(held), {}) == "first picture");
    CHECK(read(w.latestPath()) == "the second, longer picture");
    CHECK(names(dir.path) == std::vector<std::string> { "latest.jpg" });
    CHECK(w.written() == 2);
}

TEST_CASE("keep N numbers the pictures and removes older ones", "[snapshot]")
{
    TempDir dir;
    SnapshotWriter w(dir.path, 2);
    for (int i = 1; i <= 4; ++i)
        REQUIRE(write(w, "picture " + std::to_string(i)));
    CHECK(names(dir.path) == std::vector<std::string> { "000003.jpg", "000004.jpg", "latest.jpg" });
    CHECK(read(dir.path + "/000003.jpg") == "picture 3");
    CHECK(read(dir.path + "/000004.jpg") == "picture 4");
    CHECK(read(w.latestPath()) == "picture 4");
}

TEST_CASE("a failed write leaves the last picture and no temporary file", "[snapshot]")
{
    TempDir dir;
    SnapshotWriter missing(dir.path + "/gone", 0);
    std::string why;
    CHECK_FALSE(missing.write(reinterpret_cast<const uint8_t *>("x"), 1, why));
    CHECK_FALSE(why.empty());

    SnapshotWriter w(dir.path, 0);
    REQUIRE(write(w, "kept"));
    if (::geteuid() != 0) { // root writes anyway
        ::chmod(dir.path.c_str(), 0500);
        CHECK_FALSE(write(w, "lost"));
        ::chmod(dir.path.c_str(), 0700);
        CHECK(read(w.latestPath()) == "kept");
    }
    CHECK(names(dir.path) == std::vector<std::string> { "latest.jpg" });
}
