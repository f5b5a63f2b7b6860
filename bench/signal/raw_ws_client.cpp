// The load client's minimal WebSocket client; see raw_ws_client.h.
#include "raw_ws_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rc::bench {
namespace {

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kText = 0x1, kClose = 0x8, kPing = 0x9, kPong = 0xa;

} // namespace

RawWsClient::RawWsClient(signaling::FdPoller &poller, Listener &listener)
    : poller_(poller)
    , listener_(listener)
{ }

RawWsClient::~RawWsClient()
{
    if (key_)
        poller_.remove(key_);
    if (fd_ >= 0)
        ::close(fd_);
}

void RawWsClient::connect(uint16_t port, const std::string &path)
{
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        state_ = State::closed;
        listener_.rawClosed(std::string("socket: ") + std::strerror(errno));
        return;
    }
    // As browsers do (see bench_member.cpp).
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0
        && errno != EINPROGRESS) {
        state_ = State::closed;
        listener_.rawClosed(std::string("connect: ") + std::strerror(errno));
        return;
    }
    request_ = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port)
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    key_ = poller_.add(fd_, this, true);
}

void RawWsClient::ioReady(uint32_t events) noexcept
{
    try {
        if (state_ == State::connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                finish(std::string("connect: ") + std::strerror(err));
                return;
            }
            state_ = State::upgrading;
            out_ = std::move(request_);
            outOffset_ = 0;
        }
        if (outOffset_ < out_.size())
            flush();
        if (state_ != State::closed && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
            onReadable();
    } catch (const std::exception &e) {
        finish(e.what());
    }
}

void RawWsClient::onReadable()
{
    char buffer[65536];
    for (;;) {
        const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
        if (n > 0) {
            in_.append(buffer, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        finish(n == 0 ? (state_ == State::closing ? "" : "connection closed by the server")
                      : std::string("recv: ") + std::strerror(errno));
        return;
    }
    if (state_ == State::upgrading) {
        const size_t end = in_.find("\r\n\r\n");
        if (end == std::string::npos)
            return;
        if (in_.rfind("HTTP/1.1 101", 0) != 0) {
            finish("upgrade refused: " + in_.substr(0, in_.find("\r\n")));
            return;
        }
        in_.erase(0, end + 4);
        state_ = State::open;
        listener_.rawOpen();
    }
    parseFrames();
}

void RawWsClient::parseFrames()
{
    size_t at = 0;
    while (state_ != State::closed) {
        const auto *p = reinterpret_cast<const uint8_t *>(in_.data()) + at;
        const size_t avail = in_.size() - at;
        if (avail < 2)
            break;
        uint64_t len = p[1] & 0x7f;
        size_t header = 2;
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t(p[2]) << 8) | p[3];
            header = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; ++i)
                len = (len << 8) | p[2 + i];
            header = 10;
        }
        if (avail - header < len)
            break;
        const std::string_view payload(in_.data() + at + header, static_cast<size_t>(len));
        at += header + static_cast<size_t>(len);
        switch (p[0] & 0x0f) {
        case kText:
            listener_.rawText(payload);
            break;
        case kPing:
            queue(kFin | kPong, payload);
            break;
        case kClose:
            if (state_ == State::open)
                queue(kFin | kClose, payload.substr(0, 2));
            state_ = State::closing;
            break;
        default:
            break;
        }
    }
    in_.erase(0, at);
}

void RawWsClient::sendText(std::string_view text)
{
    if (state_ == State::open)
        queue(kFin | kText, text);
}

void RawWsClient::close(uint16_t code)
{
    if (state_ != State::open)
        return;
    const char payload[2] = { static_cast<char>(code >> 8), static_cast<char>(code & 0xff) };
    queue(kFin | kClose, std::string_view(payload, 2));
    state_ = State::closing;
}

void RawWsClient::queue(uint8_t first, std::string_view payload)
{
    // Masked with the key 0 0 0 0: the server unmasks whatever the key, and the XOR is free.
    const uint64_t n = payload.size();
    char header[14];
    size_t len = 0;
    header[len++] = static_cast<char>(first);
    if (n < 126) {
        header[len++] = static_cast<char>(0x80 | n);
    } else if (n < 65536) {
        header[len++] = static_cast<char>(0x80 | 126);
        header[len++] = static_cast<char>(n >> 8);
        header[len++] = static_cast<char>(n & 0xff);
    } else {
        header[len++] = static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            header[len++] = static_cast<char>((n >> shift) & 0xff);
    }
    for (int i = 0; i < 4; ++i)
        header[len++] = 0;
    out_.append(header, len);
    out_.append(payload);
    if (!wantOutput_)
        flush();
}

void RawWsClient::flush()
{
    while (outOffset_ < out_.size()) {
        const ssize_t n
            = send(fd_, out_.data() + outOffset_, out_.size() - outOffset_, MSG_NOSIGNAL);
        if (n > 0) {
            outOffset_ += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (!wantOutput_)
                poller_.setOutput(key_, true);
            wantOutput_ = true;
            return;
        }
        finish(std::string("send: ") + std::strerror(errno));
        return;
    }
    out_.clear();
    outOffset_ = 0;
    if (wantOutput_ && state_ != State::connecting)
        poller_.setOutput(key_, false);
    if (state_ != State::connecting)
        wantOutput_ = false;
}

void RawWsClient::finish(const std::string &error)
{
    if (state_ == State::closed)
        return;
    state_ = State::closed;
    poller_.remove(key_);
    key_ = 0;
    ::close(fd_);
    fd_ = -1;
    listener_.rawClosed(error);
}

} // namespace rc::bench
