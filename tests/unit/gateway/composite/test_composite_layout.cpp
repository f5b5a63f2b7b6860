// The room composite's grid: shapes, cells in join order, letterboxing.
#include "gateway/composite/composite_layout.h"

#include <catch2/catch.hpp>

using namespace rc::gateway;

namespace {
LayoutRect rect(int x, int y, int w, int h)
{
    return LayoutRect { x, y, w, h };
}
std::vector<TileSource> videoTiles(size_t n, int w = 1280, int h = 720)
{
    return std::vector<TileSource>(n, TileSource { w, h });
}
} // namespace

TEST_CASE("grid shapes", "[composite]")
{
    auto shape = [](size_t n) {
        GridShape g = gridShape(n);
        return std::pair(g.columns, g.rows);
    };
    CHECK(shape(0) == std::pair(0, 0));
    CHECK(shape(1) == std::pair(1, 1));
    CHECK(shape(2) == std::pair(2, 1));
    CHECK(shape(3) == std::pair(2, 2));
    CHECK(shape(4) == std::pair(2, 2));
    CHECK(shape(5) == std::pair(3, 2));
    CHECK(shape(6) == std::pair(3, 2));
    CHECK(shape(7) == std::pair(3, 3));
    CHECK(shape(9) == std::pair(3, 3));
    CHECK(shape(10) == std::pair(4, 3));
    CHECK(shape(16) == std::pair(4, 4));
    CHECK(shape(17) == std::pair(5, 4));
}

TEST_CASE("one participant fills the frame", "[composite]")
{
    auto l = computeCompositeLayout(1280, 720, videoTiles(1));
    REQUIRE(l.size() == 1);
    CHECK(l[0].cell == rect(0, 0, 1280, 720));
    CHECK(l[0].video == rect(0, 0, 1280, 720));
}

TEST_CASE("two sit side by side, letterboxed", "[composite]")
{
    auto l = computeCompositeLayout(1280, 720, videoTiles(2));
    REQUIRE(l.size() == 2);
    CHECK(l[0].cell == rect(0, 0, 640, 720));
    CHECK(l[1].cell == rect(640, 0, 640, 720));
    // 16:9 in a 640x720 cell: 640x360, centred vertically.
    CHECK(l[0].video == rect(0, 180, 640, 360));
    CHECK(l[1].video == rect(640, 180, 640, 360));
}

TEST_CASE("three and four form a 2x2 in join order", "[composite]")
{
    for (size_t n : { 3u, 4u }) {
        auto l = computeCompositeLayout(1280, 720, videoTiles(n));
        REQUIRE(l.size() == n);
        CHECK(l[0].cell == rect(0, 0, 640, 360));
        CHECK(l[1].cell == rect(640, 0, 640, 360));
        CHECK(l[2].cell == rect(0, 360, 640, 360));
        CHECK(l[2].video == rect(0, 360, 640, 360));
        if (n == 4)
            CHECK(l[3].cell == rect(640, 360, 640, 360));
    }
}

TEST_CASE("cells cover the frame exactly when sizes do not divide", "[composite]")
{
    auto l = computeCompositeLayout(1000, 601, videoTiles(7));
    REQUIRE(l.size() == 7);
    // 3 columns: 0-333, 333-666, 666-1000; 3 rows: 0-200, 200-400, 400-601.
    CHECK(l[0].cell == rect(0, 0, 333, 200));
    CHECK(l[1].cell == rect(333, 0, 333, 200));
    CHECK(l[2].cell == rect(666, 0, 334, 200));
    CHECK(l[3].cell == rect(0, 200, 333, 200));
    CHECK(l[6].cell == rect(0, 400, 333, 201));
    for (const auto &t : l) {
        CHECK(t.video.x >= t.cell.x);
        CHECK(t.video.y >= t.cell.y);
        CHECK(t.video.x + t.video.width <= t.cell.x + t.cell.width);
        CHECK(t.video.y + t.video.height <= t.cell.y + t.cell.height);
    }
}

TEST_CASE("aspect ratio is kept: pillarbox and letterbox", "[composite]")
{
    // A portrait 480x640 camera alone in 1280x720: full height, centred.
    auto l = computeCompositeLayout(1280, 720, { TileSource { 480, 640 } });
    CHECK(l[0].video == rect(370, 0, 540, 720));
    // A 4:3 source in a 16:9 frame.
    l = computeCompositeLayout(1280, 720, { TileSource { 640, 480 } });
    CHECK(l[0].video == rect(160, 0, 960, 720));
    // A very wide source in a 2x2 cell: full width.
    l = computeCompositeLayout(1280, 720, { { 1280, 720 }, { 1280, 720 }, { 2000, 500 } });
    CHECK(l[2].video == rect(0, 460, 640, 160));
    // Small sources are scaled up to the cell.
    l = computeCompositeLayout(1280, 720, { TileSource { 320, 180 } });
    CHECK(l[0].video == rect(0, 0, 1280, 720));
}

TEST_CASE("a participant without video keeps its cell but has no picture", "[composite]")
{
    auto l = computeCompositeLayout(1280, 720, { TileSource { 640, 480 }, TileSource {} });
    REQUIRE(l.size() == 2);
    CHECK(l[1].cell == rect(640, 0, 640, 720));
    CHECK(l[1].video.empty());
    CHECK_FALSE(l[0].video.empty());
}

TEST_CASE("degenerate inputs", "[composite]")
{
    CHECK(computeCompositeLayout(1280, 720, {}).empty());
    auto l = computeCompositeLayout(0, 720, videoTiles(2));
    REQUIRE(l.size() == 2);
    CHECK(l[0].cell.empty());
    CHECK(l[0].video.empty());
}
