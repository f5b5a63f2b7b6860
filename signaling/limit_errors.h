// The error codes and close statuses of the spec's "Resource limits" section, until
// common/protocol's ErrorCode carries them.
//
// Pure values and one encoder, safe on any thread.
#pragma once

#include <string>
#include <string_view>

namespace rc::signaling::limits {

// No valid join within the join timeout of the WebSocket handshake.
inline constexpr const char *kJoinTimeout = "join-timeout";
inline constexpr unsigned short kCloseJoinTimeout = 4408;
// More than the allowed bytes queued for a connection that does not read.
inline constexpr const char *kTooSlow = "too-slow";
inline constexpr unsigned short kCloseTryAgainLater = 1013;

// {"type":"error","code":CODE,"message":MESSAGE}, as protocol::encodeError.
std::string encodeError(const char *code, std::string_view message);

} // namespace rc::signaling::limits
