// One room member of the load client: a WebSocket connection that joins a room,
// sends time-stamped candidate messages to one peer and reports what it receives.
//
// Thread-bound: created, used and destroyed on the thread whose thread-default
// GMainContext was current when connect() was called.
#pragma once

#include "common/base/soup_ptr.h"
#include "raw_ws_client.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace rc::bench {

class BenchMember;

// What a member reports to its owner. Called on the member's context; the
// listener must outlive every member that reports to it.
class MemberListener
{
public:
    virtual void onConnected(BenchMember &member, const std::string &error) = 0; // error empty: ok
    virtual void onWelcome(BenchMember &member) = 0;
    // A forwarded bench message: src is the sending member's index, sentNs its stamp.
    virtual void onStamped(
        BenchMember &receiver, uint32_t src, uint64_t sentNs, uint64_t receivedNs)
        = 0;
    virtual void onServerError(BenchMember &member, const std::string &code) = 0;
    virtual void onClosed(BenchMember &member) = 0;

protected:
    ~MemberListener() = default;
};

class BenchMember final : private RawWsClient::Listener
{
public:
    BenchMember(uint32_t index, std::string room, MemberListener &listener);
    ~BenchMember();
    BenchMember(const BenchMember &) = delete;
    BenchMember &operator=(const BenchMember &) = delete;

    // Opens the WebSocket and, once open, sends join. session is borrowed for
    // the call only (libsoup keeps its own reference while connecting).
    void connect(SoupSession *session, const std::string &url);
    // The same over RawWsClient (the default transport): 127.0.0.1:port, path.
    void connectRaw(signaling::FdPoller &poller, uint16_t port, const std::string &path);

    // Addresses every later sendStamped() to targetId; needs the welcome first.
    void setTarget(std::string_view targetId);

    // Sends one candidate message to the target, stamped with nowNs.
    void sendStamped(uint64_t nowNs);

    // Starts a normal close (1000); onClosed follows.
    void close();

    uint32_t index() const noexcept { return index_; }
    const std::string &room() const noexcept { return room_; }
    const std::string &id() const noexcept { return id_; } // empty before welcome
    bool isOpen() const noexcept;
    bool isClosed() const noexcept { return closed_; }
    bool hasConnection() const noexcept { return conn_ != nullptr || raw_ != nullptr; }

private:
    static void onConnectDone(GObject *source, GAsyncResult *result, gpointer self) noexcept;
    static void onMessage(
        SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer self) noexcept;
    static void onClosedSignal(SoupWebsocketConnection *conn, gpointer self) noexcept;

    void handleText(std::string_view text);
    void sendJoin();
    void rawOpen() override;
    void rawText(std::string_view text) override;
    void rawClosed(const std::string &error) override;

    const uint32_t index_;
    const std::string room_;
    MemberListener &listener_;
    std::string id_;
    bool closed_ = false;

    // Declared before the handlers, so the handlers are disconnected first.
    GPtr<GCancellable> cancellable_;
    GPtr<SoupWebsocketConnection> conn_;
    SignalConnection messageHandler_;
    SignalConnection closedHandler_;
    std::unique_ptr<RawWsClient> raw_; // instead of conn_ with the raw transport
    bool rawOpened_ = false;

    // The addressed message up to its timestamp; buffer_ is reused per send.
    std::string prefix_;
    std::string buffer_;
};

} // namespace rc::bench
