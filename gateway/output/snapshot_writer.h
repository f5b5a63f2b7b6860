// A snapshot output's JPEGs on disk: latest.jpg replaced atomically, plus an optional numbered
// series, fed by the appsink named "snapshot" of a snapshot template's bin.
#pragma once

#include <gst/gst.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace rc::gateway {

// Writes one output instance's pictures into its own folder. Owned by the appsink it is
// attached to (attachSnapshotWriter: freed with the element); used only from that appsink's
// streaming thread, one picture at a time, so it needs no lock.
//
// Every picture goes to a temporary file in the same folder, is fsync'd, then rename()d over
// latest.jpg: a reader opening latest.jpg gets the previous picture or the new one, never a
// part of one, and after a crash the name holds a whole picture. With keep > 0 each picture is
// also hard-linked as NNNNNN.jpg (numbered from 1) and the one keep pictures older is removed:
// a short history for a timeline scrubber without writing the bytes twice.
class SnapshotWriter
{
public:
    SnapshotWriter(std::string dir, unsigned keep);

    // The whole picture, or false with why (nothing at latest.jpg changed then).
    bool write(const uint8_t *data, size_t size, std::string &why);
    const std::string &latestPath() const noexcept { return latest_; }
    uint64_t written() const noexcept { return written_; }

    static constexpr const char *kLatestName = "latest.jpg";

private:
    std::string dir_;
    std::string latest_;
    unsigned keep_;
    uint64_t written_ = 0;
    bool failing_ = false; // the last write failed: log the next success
};

// Where an instance's pictures go and how many numbered ones to keep.
struct SnapshotTarget
{
    std::string dir; // created (mode 0750) when the bin has a "snapshot" element
    unsigned keep = 0;
    std::string latest; // out: <dir>/latest.jpg, "" when the bin has no "snapshot" element
};

// The template's "keep" parameter (numbered pictures to keep; 0 or absent: latest.jpg only).
unsigned snapshotKeep(const std::map<std::string, std::string> &params);

// Finds the top-level element named "snapshot" in bin; when there is one it must be an appsink:
// dir is created and a SnapshotWriter is attached to its new-sample callback (writing on the
// streaming thread: a picture of tens of kB every `interval` seconds, behind the template's own
// videorate; the fsync is the only wait, and it holds up that one output only). No such
// element: true, target.latest left "". An element named "rate" (the template's videorate) gets
// a probe that drops decoded frames whose timestamp does not advance (see the .cpp: videorate
// runs away on repeated timestamps). Main context (before the bin runs).
bool attachSnapshotWriter(GstElement *bin, SnapshotTarget &target, std::string &error);

} // namespace rc::gateway
