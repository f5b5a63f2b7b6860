// libFuzzer target: the room server's bounded permessage-deflate inflater on arbitrary frames.
// The input is split into frames at 0xA5 bytes; the inflater must never produce more than its
// limit plus one byte, whatever it gets, and what it finishes must round-trip.
#include "signaling/message_inflater.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    constexpr size_t kLimit = 4096;
    rc::signaling::MessageInflater inflater(kLimit);
    std::string_view input(reinterpret_cast<const char *>(data), size);
    size_t start = 0;
    while (start <= input.size()) {
        size_t end = input.find('\xa5', start);
        const bool last = end == std::string_view::npos;
        if (last)
            end = input.size();
        const auto r = inflater.feed(input.substr(start, end - start), last);
        if (inflater.produced() > kLimit + 1)
            std::abort();
        if (r == rc::signaling::MessageInflater::Result::done) {
            const std::string message = inflater.take();
            if (message.size() > kLimit)
                std::abort();
            // What came out goes back in compressed and comes out the same.
            rc::signaling::MessageInflater again(kLimit);
            if (again.feed(rc::signaling::compressMessage(message), true)
                    != rc::signaling::MessageInflater::Result::done
                || again.take() != message)
                std::abort();
        }
        if (last)
            break;
        start = end + 1;
    }
    return 0;
}
