// libFuzzer target: the SDP helpers that read a remote or locally made SDP text.
#include "gateway/participant/sdp_tuning.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace rc::gateway;
    const std::string sdp(reinterpret_cast<const char *>(data), size);
    // mlineForMid re-reads the whole SDP: a few sections are enough, all of
    // them would make this harness (not the code) quadratic in the input.
    const auto sections = describeSections(sdp);
    for (size_t i = 0; i < sections.size() && i < 4; ++i)
        (void)mlineForMid(sdp, sections[i].mid);
    (void)sendingCodec(sdp, MediaKind::audio);
    (void)sendingCodec(sdp, MediaKind::video);
    (void)mlineForMid(sdp, "0");
    (void)addBitrateHints(sdp, BitrateHints {});
    return 0;
}
