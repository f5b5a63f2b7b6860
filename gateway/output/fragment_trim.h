// A fragmented MP4 whose last write failed (a full disk) cut back to its last whole fragment, so
// that it plays and decodes to its end.
//
// Plain functions over a closed file; call them on the thread that owns the file (the main
// context) once its writer has closed it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rc::gateway {

// The length of path's leading whole boxes that play: ftyp, moov, then each moof with its
// mdat; a moof whose mdat was cut counts for nothing. nullopt when the file is not ISO BMFF
// (its first box is not ftyp), has no whole moov (nothing to play, and nothing to gain by
// cutting), or cannot be read.
std::optional<uint64_t> wholeFragmentsLength(const std::string &path);

// Cuts path to wholeFragmentsLength() when that is shorter than the file; returns the bytes
// cut (0 when nothing was, or the file is not a fragmented MP4 this understands).
uint64_t trimToWholeFragments(const std::string &path);

} // namespace rc::gateway
