// RAII handles over GLib/GObject/json-glib/libsoup references (after WebKit's GRefPtr).
//
// Ownership is always explicit at the call site:
//   adopt(p)   takes over a reference the caller already owns (transfer full);
//   ref(p)     takes a new reference on a borrowed object (transfer none);
//   refSink(p) sinks a floating reference or takes a new one (fresh GstObjects,
//              GInitiallyUnowned).
// A GPtr is thread-agnostic; the object it points to keeps its own affinity.
#pragma once

#include <gio/gio.h>
#include <glib-object.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include <memory>
#include <string>
#include <utility>

namespace rc {

// Primary template: every type that is not a GObject gets an explicit
// specialisation below (or in gst_ptr.h); GObject types use RC_GOBJECT_DELETER.
template <typename T> struct GDeleter;

#define RC_DELETER(T, fn)                                                                          \
    template <> struct GDeleter<T>                                                                 \
    {                                                                                              \
        void operator()(T *p) const noexcept { fn(p); }                                            \
    };

// Declares that T is a GObject: unref frees it, ref/refSink are the GObject ones.
#define RC_GOBJECT_DELETER(T)                                                                      \
    template <> struct GDeleter<T>                                                                 \
    {                                                                                              \
        void operator()(T *p) const noexcept { g_object_unref(p); }                                \
        static T *ref(T *p) noexcept { return static_cast<T *>(g_object_ref(p)); }                 \
        static T *refSink(T *p) noexcept { return static_cast<T *>(g_object_ref_sink(p)); }        \
    };

RC_DELETER(GError, g_error_free)
RC_DELETER(char, g_free)
RC_DELETER(GBytes, g_bytes_unref)
RC_DELETER(GMainLoop, g_main_loop_unref)
RC_DELETER(GKeyFile, g_key_file_unref)
RC_DELETER(GUri, g_uri_unref)
RC_DELETER(GVariant, g_variant_unref)
RC_DELETER(GHashTable, g_hash_table_unref)
RC_DELETER(GMappedFile, g_mapped_file_unref)
RC_DELETER(JsonNode, json_node_unref)
RC_DELETER(JsonObject, json_object_unref)
RC_DELETER(JsonArray, json_array_unref)

template <> struct GDeleter<GMainContext>
{
    void operator()(GMainContext *p) const noexcept { g_main_context_unref(p); }
    static GMainContext *ref(GMainContext *p) noexcept { return g_main_context_ref(p); }
};

template <> struct GDeleter<GSource>
{
    // Destroying detaches the source from its context as well as dropping our
    // reference, so an owned GSource never fires after its owner is gone.
    void operator()(GSource *p) const noexcept
    {
        g_source_destroy(p);
        g_source_unref(p);
    }
};

RC_GOBJECT_DELETER(GObject)
RC_GOBJECT_DELETER(GCancellable)
RC_GOBJECT_DELETER(GSocket)
RC_GOBJECT_DELETER(GInputStream)
RC_GOBJECT_DELETER(GOutputStream)
RC_GOBJECT_DELETER(GSubprocess)
RC_GOBJECT_DELETER(GSubprocessLauncher)
RC_GOBJECT_DELETER(GSocketAddress)
RC_GOBJECT_DELETER(GInetAddress)
RC_GOBJECT_DELETER(GSocketClient)
RC_GOBJECT_DELETER(GSocketConnection)
RC_GOBJECT_DELETER(GIOStream)
RC_GOBJECT_DELETER(GTlsCertificate)
RC_GOBJECT_DELETER(GTlsDatabase)
RC_GOBJECT_DELETER(JsonParser)
RC_GOBJECT_DELETER(JsonBuilder)
RC_GOBJECT_DELETER(JsonGenerator)

template <typename T> using GPtr = std::unique_ptr<T, GDeleter<T>>;

// Takes over a reference the caller owns (transfer full).
template <typename T> GPtr<T> adopt(T *p) noexcept
{
    return GPtr<T>(p);
}

// Takes a new reference on a borrowed pointer (transfer none).
template <typename T> GPtr<T> ref(T *p) noexcept
{
    return GPtr<T>(p ? GDeleter<T>::ref(p) : nullptr);
}

// Sinks a floating reference, or takes a new one if it is not floating.
template <typename T> GPtr<T> refSink(T *p) noexcept
{
    return GPtr<T>(p ? GDeleter<T>::refSink(p) : nullptr);
}

// A g_free'd string as std::string (empty for nullptr); adopts the buffer.
inline std::string takeString(char *p)
{
    GPtr<char> owned(p);
    return owned ? std::string(owned.get()) : std::string();
}

// Disconnects a signal handler when it goes out of scope. The instance is
// borrowed: the owner of the handle must also keep the instance alive (or
// reset the handle first).
class SignalConnection
{
public:
    SignalConnection() = default;
    SignalConnection(gpointer instance, gulong id) noexcept
        : instance_(instance)
        , id_(id)
    { }
    SignalConnection(SignalConnection &&o) noexcept
        : instance_(std::exchange(o.instance_, nullptr))
        , id_(std::exchange(o.id_, 0))
    { }
    SignalConnection &operator=(SignalConnection &&o) noexcept
    {
        if (this != &o) {
            reset();
            instance_ = std::exchange(o.instance_, nullptr);
            id_ = std::exchange(o.id_, 0);
        }
        return *this;
    }
    SignalConnection(const SignalConnection &) = delete;
    SignalConnection &operator=(const SignalConnection &) = delete;
    ~SignalConnection() { reset(); }

    void reset() noexcept
    {
        if (instance_ && id_ && g_signal_handler_is_connected(instance_, id_))
            g_signal_handler_disconnect(instance_, id_);
        instance_ = nullptr;
        id_ = 0;
    }
    explicit operator bool() const noexcept { return id_ != 0; }

private:
    gpointer instance_ = nullptr;
    gulong id_ = 0;
};

} // namespace rc
