// The room composite's grid: where each participant's tile and letterboxed picture go.
#include "gateway/composite/composite_layout.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace rc::gateway {

GridShape gridShape(size_t tiles) noexcept
{
    if (tiles == 0)
        return {};
    if (tiles == 1)
        return { 1, 1 };
    if (tiles == 2)
        return { 2, 1 };
    int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(tiles))));
    // sqrt of a perfect square can come out a hair above the integer.
    while (
        columns > 1 && static_cast<size_t>(columns - 1) * static_cast<size_t>(columns - 1) >= tiles)
        --columns;
    const int rows = static_cast<int>((tiles + columns - 1) / columns);
    return { columns, rows };
}

namespace {

// Edges at i*total/parts: integer, monotonic, the last one exactly total.
int edge(int total, int i, int parts)
{
    return static_cast<int>(static_cast<int64_t>(total) * i / parts);
}

LayoutRect letterbox(const LayoutRect &cell, const TileSource &src)
{
    if (!src.hasVideo() || cell.empty())
        return {};
    // Compare cross products in 64 bits: which side limits the scale.
    const int64_t wideness = static_cast<int64_t>(src.width) * cell.height;
    const int64_t cellWideness = static_cast<int64_t>(cell.width) * src.height;
    LayoutRect r;
    if (wideness >= cellWideness) {
        // Wider than the cell: full width, bars above and below.
        r.width = cell.width;
        r.height = static_cast<int>(
            (static_cast<int64_t>(cell.width) * src.height * 2 + src.width) / (2 * src.width));
    } else {
        r.height = cell.height;
        r.width = static_cast<int>(
            (static_cast<int64_t>(cell.height) * src.width * 2 + src.height) / (2 * src.height));
    }
    r.width = std::clamp(r.width, 1, cell.width);
    r.height = std::clamp(r.height, 1, cell.height);
    r.x = cell.x + (cell.width - r.width) / 2;
    r.y = cell.y + (cell.height - r.height) / 2;
    return r;
}

} // namespace

std::vector<TileLayout> computeCompositeLayout(
    int width, int height, const std::vector<TileSource> &tiles)
{
    std::vector<TileLayout> out(tiles.size());
    if (tiles.empty() || width <= 0 || height <= 0)
        return out;
    const GridShape grid = gridShape(tiles.size());
    for (size_t i = 0; i < tiles.size(); ++i) {
        const int column = static_cast<int>(i) % grid.columns;
        const int row = static_cast<int>(i) / grid.columns;
        LayoutRect cell;
        cell.x = edge(width, column, grid.columns);
        cell.y = edge(height, row, grid.rows);
        cell.width = edge(width, column + 1, grid.columns) - cell.x;
        cell.height = edge(height, row + 1, grid.rows) - cell.y;
        out[i].cell = cell;
        out[i].video = letterbox(cell, tiles[i]);
    }
    return out;
}

} // namespace rc::gateway
