// Closed libsoup connections released only once libsoup has no source left; see
// connection_graveyard.h.
#include "signaling/connection_graveyard.h"

#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/weak_self.h"

#include <algorithm>

namespace rc::signaling {

ConnectionGraveyard::ConnectionGraveyard(GMainContext *ctx, std::chrono::milliseconds grace)
    : ctx_(ctx)
    , grace_(grace)
{ }

ConnectionGraveyard::~ConnectionGraveyard()
{
    timer_.reset();
    for (auto &w : waiting_) {
        if (!libsoupBusy(ctx_, w.conn.get()))
            continue; // released normally below
        // Finalizing it would abort the process (see the header): keep it; we are stopping.
        (void)w.conn.release();
    }
}

bool ConnectionGraveyard::libsoupBusy(GMainContext *ctx, SoupWebsocketConnection *conn) noexcept
{
    // Every source libsoup attaches for a connection has the connection as its user data.
    return g_main_context_find_source_by_user_data(ctx, conn) != nullptr;
}

void ConnectionGraveyard::bury(GPtr<SoupWebsocketConnection> conn)
{
    if (!conn || !libsoupBusy(ctx_, conn.get()))
        return; // conn is released here
    waiting_.push_back({ std::move(conn), g_get_monotonic_time() });
    if (!timer_)
        timer_ = addTimeout(ctx_, std::chrono::milliseconds(100), [this] { return sweep(); });
}

bool ConnectionGraveyard::sweep()
{
    const gint64 now = g_get_monotonic_time();
    const gint64 graceUs = std::chrono::duration_cast<std::chrono::microseconds>(grace_).count();
    std::vector<Waiting> keep;
    for (auto &w : waiting_) {
        if (!libsoupBusy(ctx_, w.conn.get()))
            continue; // released with w
        if (now - w.sinceUs >= graceUs) {
            RC_LOG_WARN("a closed WebSocket connection still has a libsoup source after %lld ms; "
                        "keeping it rather than finalizing it (libsoup 3.2 would abort)",
                static_cast<long long>(grace_.count()));
            (void)w.conn.release();
            continue;
        }
        keep.push_back(std::move(w));
    }
    waiting_ = std::move(keep);
    if (!waiting_.empty())
        return true;
    // Released from a later dispatch: this is the timer's own callback.
    releaseLater(ctx_, std::move(timer_));
    return false;
}

} // namespace rc::signaling
