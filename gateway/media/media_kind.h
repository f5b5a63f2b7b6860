// Audio or video: the one media distinction every layer of the gateway shares.
//
// A plain value; safe on any thread.
#pragma once

namespace rc::gateway {

enum class MediaKind { audio, video };

constexpr const char *mediaKindName(MediaKind kind) noexcept
{
    return kind == MediaKind::video ? "video" : "audio";
}

} // namespace rc::gateway
