// The room composite's grid: where each participant's tile and letterboxed picture go.
//
// Pure functions on plain values; call from any thread.
#pragma once

#include <cstddef>
#include <vector>

namespace rc::gateway {

struct LayoutRect
{
    int x = 0, y = 0, width = 0, height = 0;
    bool empty() const noexcept { return width <= 0 || height <= 0; }
    bool operator==(const LayoutRect &) const = default;
};

// One tile's source: the size of its decoded picture, or 0x0 when the
// participant has no video (yet): it then gets a dark tile and no picture.
struct TileSource
{
    int width = 0, height = 0;
    bool hasVideo() const noexcept { return width > 0 && height > 0; }
};

struct TileLayout
{
    LayoutRect cell; // the tile's whole grid cell
    LayoutRect video; // the picture inside it, aspect kept and centred; empty without video
};

struct GridShape
{
    int columns = 0, rows = 0;
};

// 0: 0x0; 1: 1x1; 2: 2x1 (side by side); 3-4: 2x2; then columns =
// ceil(sqrt(n)), rows = ceil(n / columns).
GridShape gridShape(size_t tiles) noexcept;

// Cells in join order, left to right then top to bottom. Cell edges are
// rounded so that the cells cover the frame exactly with no gap or overlap;
// a picture is scaled to fit its cell (up or down) and centred, the rest of
// the cell left to the letterbox. Non-positive output sizes give empty rects.
std::vector<TileLayout> computeCompositeLayout(
    int width, int height, const std::vector<TileSource> &tiles);

} // namespace rc::gateway
