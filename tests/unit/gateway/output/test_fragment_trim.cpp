// fragment_trim: a fragmented MP4 cut by a failed write is cut back to its last whole fragment.
#include "gateway/output/fragment_trim.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

using namespace rc::gateway;

namespace {

std::string box(const char *type, size_t payload)
{
    const size_t size = payload + 8;
    std::string b;
    for (int shift = 24; shift >= 0; shift -= 8)
        b.push_back(static_cast<char>((size >> shift) & 0xff));
    b += std::string(type, 4);
    b += std::string(payload, '\x5a');
    return b;
}

// A file in a fresh folder, removed with the object.
struct TempFile
{
    std::filesystem::path dir, path;
    explicit TempFile(const std::string &bytes)
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "fragtrim-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
        path = dir / "part.mp4";
        std::ofstream(path, std::ios::binary) << bytes;
    }
    ~TempFile() { std::filesystem::remove_all(dir); }
    uint64_t size() const { return std::filesystem::file_size(path); }
};

const std::string kHead = box("ftyp", 16) + box("moov", 100);
const std::string kFragment = box("moof", 40) + box("mdat", 300);

} // namespace

TEST_CASE("a file cut inside an mdat keeps every whole fragment", "[fragment-trim]")
{
    const std::string whole = kHead + kFragment + kFragment;
    TempFile f(whole + box("moof", 40) + box("mdat", 300).substr(0, 120));
    CHECK(wholeFragmentsLength(f.path.string()) == whole.size());
    CHECK(trimToWholeFragments(f.path.string()) == 48 + 120);
    CHECK(f.size() == whole.size());
    // Already whole: nothing more to cut.
    CHECK(trimToWholeFragments(f.path.string()) == 0);
    CHECK(f.size() == whole.size());
}

TEST_CASE("a moof without its mdat, or a torn box header, plays for nothing", "[fragment-trim]")
{
    const std::string whole = kHead + kFragment;
    SECTION("moof, no mdat")
    {
        TempFile f(whole + box("moof", 40));
        CHECK(wholeFragmentsLength(f.path.string()) == whole.size());
    }
    SECTION("moof, 5 bytes of the mdat's header")
    {
        TempFile f(whole + box("moof", 40) + box("mdat", 10).substr(0, 5));
        CHECK(wholeFragmentsLength(f.path.string()) == whole.size());
    }
    SECTION("a box claiming less than its own header")
    {
        TempFile f(whole + std::string("\0\0\0\3mdat", 8) + "xyz");
        CHECK(wholeFragmentsLength(f.path.string()) == whole.size());
    }
}

TEST_CASE("64-bit box sizes and a box running to the end of the file", "[fragment-trim]")
{
    std::string large = std::string("\0\0\0\1mdat", 8);
    const uint64_t largeSize = 16 + 64;
    for (int shift = 56; shift >= 0; shift -= 8)
        large.push_back(static_cast<char>((largeSize >> shift) & 0xff));
    large += std::string(64, 'x');
    const std::string whole = kHead + box("moof", 40) + large;
    {
        TempFile f(whole + box("moof", 40) + large.substr(0, 30));
        CHECK(wholeFragmentsLength(f.path.string()) == whole.size());
    }
    {
        // size 0: "to the end of the file", whole by definition.
        TempFile f(kHead + std::string("\0\0\0\0mdat", 8) + "abcdef");
        CHECK(wholeFragmentsLength(f.path.string()) == kHead.size() + 14);
    }
}

TEST_CASE("files this does not understand are left alone", "[fragment-trim]")
{
    SECTION("not ISO BMFF (Matroska's EBML header)")
    {
        TempFile f(std::string("\x1a\x45\xdf\xa3", 4) + std::string(200, 'm'));
        CHECK_FALSE(wholeFragmentsLength(f.path.string()));
        CHECK(trimToWholeFragments(f.path.string()) == 0);
        CHECK(f.size() == 204);
    }
    SECTION("no whole moov yet: nothing plays, nothing is cut")
    {
        TempFile f(box("ftyp", 16) + box("moov", 100).substr(0, 50));
        CHECK_FALSE(wholeFragmentsLength(f.path.string()));
        CHECK(trimToWholeFragments(f.path.string()) == 0);
        CHECK(f.size() == 24 + 50);
    }
    SECTION("no file")
    {
        CHECK_FALSE(wholeFragmentsLength("/nonexistent/roomcast/part.mp4"));
    }
}
