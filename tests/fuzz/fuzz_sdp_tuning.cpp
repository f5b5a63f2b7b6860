// libFuzzer target: the SDP helpers that read a remote or locally made SDP text.
#include "gateway/participant/sdp_tuning.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace rc::gateway;
    const std::string sdp(reinterpret_cast<const char *>(data), size);
    for (const auto &section : describeSections(sdp))
        (void)mlineForMid(sdp, section.mid);
    (void)sendingCodec(sdp, MediaKind::audio);
    (void)sendingCodec(sdp, MediaKind::video);
    (void)mlineForMid(sdp, "0");
    (void)addBitrateHints(sdp, BitrateHints {});
    return 0;
}
