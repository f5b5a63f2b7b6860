// A minimal client-side WebSocket for the load client: a non-blocking TCP socket to
// 127.0.0.1, a fixed upgrade request, unfragmented text frames masked with a zero key, and the
// server's frames parsed in place. It exists so that the load client costs less per message
// than the server it measures: libsoup's client pays the same per-read source churn as
// libsoup's server did (bench/RESULTS.md).
//
// Thread-bound: created, used and destroyed on the thread that iterates the poller's context.
// Listener calls come only from the poller's dispatch.
#pragma once

#include "signaling/fd_poller.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace rc::bench {

class RawWsClient final : private signaling::FdPoller::Handler
{
public:
    class Listener
    {
    public:
        virtual void rawOpen() = 0; // the 101 arrived
        virtual void rawText(std::string_view text) = 0;
        virtual void rawClosed(const std::string &error) = 0; // error empty: a normal close
    protected:
        ~Listener() = default;
    };

    RawWsClient(signaling::FdPoller &poller, Listener &listener);
    ~RawWsClient();
    RawWsClient(const RawWsClient &) = delete;
    RawWsClient &operator=(const RawWsClient &) = delete;

    // Connects to 127.0.0.1:port and asks for an upgrade on path.
    void connect(uint16_t port, const std::string &path);
    void sendText(std::string_view text);
    void close(uint16_t code);
    bool open() const noexcept { return state_ == State::open; }

private:
    enum class State { connecting, upgrading, open, closing, closed };
    void ioReady(uint32_t events) noexcept override;
    void onReadable();
    void parseFrames();
    void queue(uint8_t first, std::string_view payload);
    void flush();
    void finish(const std::string &error);

    signaling::FdPoller &poller_;
    Listener &listener_;
    int fd_ = -1;
    uint64_t key_ = 0;
    State state_ = State::connecting;
    std::string request_;
    std::string in_;
    std::string out_;
    size_t outOffset_ = 0;
    bool wantOutput_ = true;
};

} // namespace rc::bench
