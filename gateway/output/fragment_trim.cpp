// Cutting a fragmented MP4 back to its last whole fragment; see fragment_trim.h.
#include "gateway/output/fragment_trim.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace rc::gateway {
namespace {

// Closes a file descriptor on every path out.
struct Fd
{
    int fd;
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

uint64_t bigEndian(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 8) | p[i];
    return v;
}

} // namespace

std::optional<uint64_t> wholeFragmentsLength(const std::string &path)
{
    Fd file { ::open(path.c_str(), O_RDONLY | O_CLOEXEC) };
    struct stat st
    {
    };
    if (file.fd < 0 || ::fstat(file.fd, &st) != 0)
        return std::nullopt;
    const auto size = static_cast<uint64_t>(st.st_size);
    uint64_t at = 0, playable = 0;
    bool first = true, moov = false;
    while (size - at >= 8) {
        unsigned char header[16];
        const ssize_t got = ::pread(file.fd, header, sizeof header, static_cast<off_t>(at));
        if (got < 8)
            return std::nullopt;
        uint64_t boxSize = bigEndian(header, 4), headerSize = 8;
        const char *type = reinterpret_cast<const char *>(header + 4);
        if (first && std::memcmp(type, "ftyp", 4) != 0)
            return std::nullopt;
        first = false;
        if (boxSize == 1) { // 64-bit size after the type
            if (got < 16)
                break;
            boxSize = bigEndian(header + 8, 8);
            headerSize = 16;
        } else if (boxSize == 0) {
            boxSize = size - at; // "to the end of the file": whole by definition
        }
        if (boxSize < headerSize || boxSize > size - at)
            break; // cut short (or garbage from a torn write): what came before is what plays
        at += boxSize;
        const bool isMoof = std::memcmp(type, "moof", 4) == 0;
        moov = moov || std::memcmp(type, "moov", 4) == 0;
        // A moof describes the mdat after it: it plays only once that mdat is whole too.
        if (!isMoof)
            playable = at;
    }
    if (!moov)
        return std::nullopt;
    return playable;
}

uint64_t trimToWholeFragments(const std::string &path)
{
    const std::optional<uint64_t> keep = wholeFragmentsLength(path);
    struct stat st
    {
    };
    if (!keep || ::stat(path.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) <= *keep)
        return 0;
    if (::truncate(path.c_str(), static_cast<off_t>(*keep)) != 0)
        return 0;
    return static_cast<uint64_t>(st.st_size) - *keep;
}

} // namespace rc::gateway
