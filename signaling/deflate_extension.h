// The room server's permessage-deflate (RFC 7692) as a libsoup WebSocket extension, in place of
// libsoup's own: libsoup 3.2 inflates a whole frame with no bound before any size check, so a
// frame of a few KiB could expand to gigabytes. This one inflates at most the protocol's limit
// plus one byte (MessageInflater), after which the message is refused as too-large (1009) by
// the dispatcher like any other oversize message.
//
// Negotiation: the server always answers server_no_context_takeover and
// client_no_context_takeover, so no zlib state is kept between messages (a connection costs
// nothing at rest), and echoes a client's server_max_window_bits. It compresses only messages
// worth it (offers and answers; not small candidates), which RFC 7692 allows.
//
// One instance per WebSocket connection, created by libsoup's server on the thread of the
// server's main context, and touched only there.
#pragma once

#include <glib-object.h>

#include <cstddef>

namespace rc::signaling {

// The GType to give soup_server_add_websocket_extension(). limit: the largest message in
// bytes after inflation (protocol::kMaxMessageBytes).
GType deflateExtensionType();
inline constexpr size_t kDeflateMinimumToCompress = 256;

} // namespace rc::signaling
