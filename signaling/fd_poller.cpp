// epoll behind one GSource; see fd_poller.h.
#include "signaling/fd_poller.h"

#include "common/base/log.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rc::signaling {
namespace {

struct PollerSource
{
    GSource base;
    FdPoller *owner;
};

// Fairness: at most this many events per dispatch; the rest stay ready for the next one.
constexpr int kMaxEvents = 256;

} // namespace

FdPoller::FdPoller(GMainContext *ctx)
    : epfd_(epoll_create1(EPOLL_CLOEXEC))
{
    if (epfd_ < 0)
        throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    static GSourceFuncs funcs
        = { &FdPoller::prepare, &FdPoller::check, &FdPoller::dispatch, nullptr, nullptr, nullptr };
    GSource *source = g_source_new(&funcs, sizeof(PollerSource));
    reinterpret_cast<PollerSource *>(source)->owner = this;
    g_source_set_name(source, "roomcast client sockets");
    tag_ = g_source_add_unix_fd(source, epfd_, G_IO_IN);
    g_source_attach(source, ctx);
    source_ = GPtr<GSource>(source);
}

FdPoller::~FdPoller()
{
    source_.reset();
    if (epfd_ >= 0)
        close(epfd_);
}

uint64_t FdPoller::add(int fd, Handler *handler, bool output)
{
    const uint64_t key = nextKey_++;
    epoll_event ev {};
    ev.events = EPOLLIN | (output ? uint32_t(EPOLLOUT) : 0u);
    ev.data.u64 = key;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0)
        throw std::runtime_error(std::string("epoll_ctl add: ") + std::strerror(errno));
    handlers_.emplace(key, Entry { handler, fd, output });
    return key;
}

void FdPoller::setOutput(uint64_t key, bool output)
{
    auto it = handlers_.find(key);
    if (it == handlers_.end() || it->second.output == output)
        return;
    epoll_event ev {};
    ev.events = EPOLLIN | (output ? uint32_t(EPOLLOUT) : 0u);
    ev.data.u64 = key;
    if (epoll_ctl(epfd_, EPOLL_CTL_MOD, it->second.fd, &ev) == 0)
        it->second.output = output;
}

void FdPoller::remove(uint64_t key) noexcept
{
    auto it = handlers_.find(key);
    if (it == handlers_.end())
        return;
    epoll_ctl(epfd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
    handlers_.erase(it);
}

void FdPoller::again(uint64_t key)
{
    again_.push_back(key);
}

gboolean FdPoller::prepare(GSource *source, gint *timeout) noexcept
{
    auto *self = reinterpret_cast<PollerSource *>(source)->owner;
    *timeout = -1;
    return !self->again_.empty();
}

gboolean FdPoller::check(GSource *source) noexcept
{
    auto *self = reinterpret_cast<PollerSource *>(source)->owner;
    return !self->again_.empty() || (g_source_query_unix_fd(source, self->tag_) & G_IO_IN);
}

gboolean FdPoller::dispatch(GSource *source, GSourceFunc, gpointer) noexcept
{
    reinterpret_cast<PollerSource *>(source)->owner->dispatchEvents();
    return G_SOURCE_CONTINUE;
}

void FdPoller::dispatchEvents() noexcept
{
    epoll_event events[kMaxEvents];
    const int n = epoll_wait(epfd_, events, kMaxEvents, 0);
    for (int i = 0; i < n; ++i) {
        auto it = handlers_.find(events[i].data.u64);
        if (it != handlers_.end())
            it->second.handler->ioReady(events[i].events);
    }
    if (again_.empty())
        return;
    std::vector<uint64_t> keys;
    keys.swap(again_);
    for (uint64_t key : keys) {
        auto it = handlers_.find(key);
        if (it != handlers_.end())
            it->second.handler->ioReady(0);
    }
}

} // namespace rc::signaling
