// permessage-deflate with a bounded inflate, as a libsoup extension; see deflate_extension.h.
#include "signaling/deflate_extension.h"

#include "common/protocol/room_protocol.h"
#include "signaling/message_inflater.h"

#include <libsoup/soup.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace {

struct DeflateState
{
    rc::signaling::MessageInflater inflater { rc::protocol::kMaxMessageBytes };
    bool enabled = false;
    bool inMessage = false; // a compressed message continues in the next frame
    std::optional<int> serverWindowBits; // the client's server_max_window_bits, if it asked
};

struct RcDeflateExtension
{
    SoupWebsocketExtension parent;
    DeflateState *state;
};

struct RcDeflateExtensionClass
{
    SoupWebsocketExtensionClass parent_class;
};

G_DEFINE_TYPE(RcDeflateExtension, rc_deflate_extension, SOUP_TYPE_WEBSOCKET_EXTENSION)

DeflateState &stateOf(SoupWebsocketExtension *extension)
{
    return *reinterpret_cast<RcDeflateExtension *>(extension)->state;
}

bool setError(GError **error, const std::string &message)
{
    g_set_error_literal(
        error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, message.c_str());
    return false;
}

// 8..15, as RFC 7692 7.1.2 writes it (1*DIGIT, no sign, no leading zero).
std::optional<int> windowBits(const char *value)
{
    if (!value || !*value || std::strlen(value) > 2 || value[0] == '0')
        return std::nullopt;
    for (const char *p = value; *p; ++p)
        if (*p < '0' || *p > '9')
            return std::nullopt;
    const int bits = std::atoi(value);
    if (bits < 8 || bits > 15)
        return std::nullopt;
    return bits;
}

gboolean configure(SoupWebsocketExtension *extension, SoupWebsocketConnectionType type,
    GHashTable *params, GError **error) noexcept
{
    DeflateState &s = stateOf(extension);
    if (type != SOUP_WEBSOCKET_CONNECTION_SERVER)
        return setError(error, "this permessage-deflate is for the server side only");
    if (params) {
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, params);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            const std::string name = static_cast<const char *>(key);
            const char *v = static_cast<const char *>(value);
            if (name == "server_no_context_takeover" || name == "client_no_context_takeover") {
                if (v)
                    return setError(error, "'" + name + "' takes no value");
            } else if (name == "server_max_window_bits") {
                auto bits = windowBits(v);
                if (!bits)
                    return setError(error, "bad server_max_window_bits");
                s.serverWindowBits = *bits;
            } else if (name == "client_max_window_bits") {
                if (v && !windowBits(v))
                    return setError(error, "bad client_max_window_bits");
            } else {
                return setError(error, "unknown permessage-deflate parameter '" + name + "'");
            }
        }
    }
    s.enabled = true;
    return TRUE;
}

char *requestParams(SoupWebsocketExtension *) noexcept
{
    return nullptr;
}

char *responseParams(SoupWebsocketExtension *extension) noexcept
{
    const DeflateState &s = stateOf(extension);
    std::string params = "; server_no_context_takeover; client_no_context_takeover";
    if (s.serverWindowBits)
        params += "; server_max_window_bits=" + std::to_string(*s.serverWindowBits);
    return g_strdup(params.c_str());
}

GBytes *outgoing(
    SoupWebsocketExtension *extension, guint8 *header, GBytes *payload, GError **) noexcept
{
    const DeflateState &s = stateOf(extension);
    const bool control = header[0] & 0x08;
    gsize size = 0;
    const auto *data = static_cast<const char *>(g_bytes_get_data(payload, &size));
    // zlib cannot deflate with an 8-bit window; such a client gets plain messages (allowed).
    const int bits = s.serverWindowBits.value_or(15);
    if (!s.enabled || control || size < rc::signaling::kDeflateMinimumToCompress || bits < 9)
        return payload;
    try {
        std::string packed = rc::signaling::compressMessage(std::string_view(data, size), bits);
        if (packed.empty() || packed.size() >= size)
            return payload;
        header[0] |= 0x40;
        g_bytes_unref(payload);
        return g_bytes_new(packed.data(), packed.size());
    } catch (...) {
        return payload; // out of memory: send it as it is
    }
}

GBytes *incoming(
    SoupWebsocketExtension *extension, guint8 *header, GBytes *payload, GError **error) noexcept
{
    DeflateState &s = stateOf(extension);
    const bool control = header[0] & 0x08;
    const bool compressed = header[0] & 0x40;
    if (!s.enabled || control || (!s.inMessage && !compressed))
        return payload;
    if (s.inMessage && compressed) {
        g_bytes_unref(payload);
        setError(error, "RSV1 set on a continuation frame");
        return nullptr;
    }
    header[0] &= ~0x40;
    const bool fin = header[0] & 0x80;
    s.inMessage = !fin;
    gsize size = 0;
    const auto *data = static_cast<const char *>(g_bytes_get_data(payload, &size));
    try {
        using Result = rc::signaling::MessageInflater::Result;
        const Result r = s.inflater.feed(std::string_view(data, size), fin);
        g_bytes_unref(payload);
        switch (r) {
        case Result::more:
            return g_bytes_new(nullptr, 0); // the message comes whole with its last frame
        case Result::done: {
            std::string message = s.inflater.take();
            return g_bytes_new(message.data(), message.size());
        }
        case Result::tooLarge: {
            if (!fin)
                return g_bytes_new(nullptr, 0);
            // One byte past the limit, as valid UTF-8: the dispatcher refuses it as too-large
            // (error, then 1009) exactly like an uncompressed oversize message.
            std::string oversize(rc::protocol::kMaxMessageBytes + 1, ' ');
            return g_bytes_new(oversize.data(), oversize.size());
        }
        case Result::corrupt:
            setError(error, "invalid permessage-deflate data");
            return nullptr;
        }
    } catch (...) {
        setError(error, "cannot inflate a message");
        return nullptr;
    }
    return nullptr;
}

void finalize(GObject *object) noexcept
{
    delete reinterpret_cast<RcDeflateExtension *>(object)->state;
    G_OBJECT_CLASS(rc_deflate_extension_parent_class)->finalize(object);
}

void rc_deflate_extension_init(RcDeflateExtension *self)
{
    self->state = new DeflateState();
}

void rc_deflate_extension_class_init(RcDeflateExtensionClass *klass)
{
    auto *ext = SOUP_WEBSOCKET_EXTENSION_CLASS(klass);
    ext->name = "permessage-deflate";
    ext->configure = configure;
    ext->get_request_params = requestParams;
    ext->get_response_params = responseParams;
    ext->process_outgoing_message = outgoing;
    ext->process_incoming_message = incoming;
    G_OBJECT_CLASS(klass)->finalize = finalize;
}

} // namespace

namespace rc::signaling {

GType deflateExtensionType()
{
    return rc_deflate_extension_get_type();
}

} // namespace rc::signaling
