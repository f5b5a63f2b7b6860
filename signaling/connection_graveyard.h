// Where closed libsoup WebSocket connections wait until libsoup has let go of them.
//
// libsoup 3.2 re-arms a connection's output source after the close frame it queued behind a
// backlog is sent (soup_websocket_connection_write after close_io_stream), and its finalize
// asserts that no output source is left: dropping the last reference then aborts the whole
// server. So a connection is released only once no source of its own is attached to the
// context any more; one whose source never goes within the grace is kept (a bounded leak, with
// a warning) rather than finalized into an abort.
//
// Owned by the RoomServer; thread-bound to its GMainContext.
#pragma once

#include "common/base/gptr.h"
#include "common/base/soup_ptr.h"

#include <chrono>
#include <vector>

namespace rc::signaling {

class ConnectionGraveyard
{
public:
    explicit ConnectionGraveyard(
        GMainContext *ctx, std::chrono::milliseconds grace = std::chrono::seconds(30));
    ~ConnectionGraveyard();
    ConnectionGraveyard(const ConnectionGraveyard &) = delete;
    ConnectionGraveyard &operator=(const ConnectionGraveyard &) = delete;

    // Takes the last reference of a closed connection; releases it now if libsoup has no
    // source left on the context, else as soon as it has none.
    void bury(GPtr<SoupWebsocketConnection> conn);
    size_t waiting() const noexcept { return waiting_.size(); }
    // Whether libsoup still has a source (input, output, timeout) for conn on ctx.
    static bool libsoupBusy(GMainContext *ctx, SoupWebsocketConnection *conn) noexcept;

private:
    bool sweep();

    struct Waiting
    {
        GPtr<SoupWebsocketConnection> conn;
        gint64 sinceUs = 0;
    };
    GMainContext *ctx_; // borrowed: the server's, outlives this
    std::chrono::milliseconds grace_;
    std::vector<Waiting> waiting_;
    GPtr<GSource> timer_;
};

} // namespace rc::signaling
