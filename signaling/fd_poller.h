// One GSource that watches every client socket of a GMainContext through one epoll set.
//
// Why: with one GSource (or poll record) per socket, GLib 2.74 walks every watched fd several
// times per dispatch (its poll-record list is kept sorted, and g_main_dispatch removes and
// re-adds a source's fds around each callback), and libsoup 3.2 recreates its WebSocket input
// source on every read; at 1,000 connections that walk was the largest cost of a forwarded
// message (bench/RESULTS.md). Here GLib polls one fd, whatever the number of connections, and a
// ready socket costs one epoll event.
//
// Owned by the RoomServer; thread-bound to the context it is attached to. Handlers are found
// by key on each event, so a handler removed while a batch of events is being dispatched is
// simply skipped.
#pragma once

#include "common/base/gptr.h"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace rc::signaling {

class FdPoller
{
public:
    class Handler
    {
    public:
        // events: EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits; 0 for a call asked by again().
        virtual void ioReady(uint32_t events) noexcept = 0;

    protected:
        ~Handler() = default;
    };

    explicit FdPoller(GMainContext *ctx);
    ~FdPoller();
    FdPoller(const FdPoller &) = delete;
    FdPoller &operator=(const FdPoller &) = delete;

    // Watches fd (level-triggered) for input, and for output while `output`; returns the key
    // to pass to the other calls. The handler must stay valid until remove(key).
    uint64_t add(int fd, Handler *handler, bool output);
    void setOutput(uint64_t key, bool output);
    void remove(uint64_t key) noexcept;
    // Calls the handler with events 0 from the next dispatch (work left over after a fair
    // share, or a state change to act on outside the current call stack).
    void again(uint64_t key);

    size_t watched() const noexcept { return handlers_.size(); }

private:
    struct Entry
    {
        Handler *handler;
        int fd;
        bool output;
    };
    static gboolean prepare(GSource *source, gint *timeout) noexcept;
    static gboolean check(GSource *source) noexcept;
    static gboolean dispatch(GSource *source, GSourceFunc, gpointer) noexcept;
    void dispatchEvents() noexcept;

    int epfd_ = -1;
    GPtr<GSource> source_;
    gpointer tag_ = nullptr;
    uint64_t nextKey_ = 1;
    std::unordered_map<uint64_t, Entry> handlers_;
    std::vector<uint64_t> again_;
};

} // namespace rc::signaling
