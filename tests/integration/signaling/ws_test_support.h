// Test support for the room server over real sockets: a private main loop, a
// libsoup WebSocket client, a raw WebSocket client for frames libsoup will not
// send, an in-process server and the real binary.
//
// Everything here is thread-bound to the test's thread and its TestLoop.
#pragma once

#include "common/base/gptr.h"
#include "common/base/json.h"
#include "common/base/soup_ptr.h"
#include "signaling/room_server.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::test {

using namespace std::chrono_literals;

// A private GMainContext, pushed as the thread default for the test's lifetime.
class TestLoop
{
public:
    TestLoop();
    ~TestLoop();
    TestLoop(const TestLoop &) = delete;
    TestLoop &operator=(const TestLoop &) = delete;

    GMainContext *context() const noexcept { return ctx_.get(); }
    // Iterates until pred holds; false when timeout passed first (the watchdog).
    bool until(const std::function<bool()> &pred, std::chrono::milliseconds timeout = 5s);
    // Iterates for a while (to show that something does NOT happen).
    void runFor(std::chrono::milliseconds duration);

private:
    GPtr<GMainContext> ctx_;
};

// One received JSON message.
struct Msg
{
    std::string text;
    GPtr<JsonNode> root;
    JsonObject *object() const;
    std::string type() const;
    std::optional<std::string> str(const char *field) const;
    std::optional<bool> boolean(const char *field) const;
    bool has(const char *field) const;
};

// A WebSocket client built on libsoup (answers pings; offers libsoup's permessage-deflate when
// asked: a libsoup 3 session does not by itself).
class WsClient
{
public:
    WsClient(TestLoop &loop, uint16_t port, const std::string &host = "127.0.0.1",
        bool offerDeflate = false);
    ~WsClient();
    WsClient(const WsClient &) = delete;
    WsClient &operator=(const WsClient &) = delete;

    bool connected() const noexcept { return conn_ != nullptr; }
    void send(const std::string &text);
    void sendBinary(const std::string &bytes);
    void close(unsigned short code = 1000);

    // Waits for the next message; nullopt on timeout.
    std::optional<Msg> next(std::chrono::milliseconds timeout = 5s);
    // Waits for the next message of a type, skipping others (kept in skipped()).
    std::optional<Msg> nextOfType(const std::string &type, std::chrono::milliseconds timeout = 5s);
    // True if no message arrives within the window.
    bool silentFor(std::chrono::milliseconds window);
    // Waits for the connection to close; the peer's close code, or nullopt on timeout.
    std::optional<int> waitClosed(std::chrono::milliseconds timeout = 5s);
    bool isClosed() const noexcept { return closed_; }
    size_t pending() const noexcept { return inbox_.size(); }
    SoupWebsocketConnection *connection() const noexcept { return conn_.get(); }

    // join and wait for the welcome; returns the assigned id ("" on failure).
    std::string join(const std::string &room, const std::optional<std::string> &name = std::nullopt,
        bool hidden = false, const std::optional<std::string> &token = std::nullopt);

private:
    static void onMessage(SoupWebsocketConnection *, gint, GBytes *, gpointer) noexcept;
    static void onClosed(SoupWebsocketConnection *, gpointer) noexcept;

    TestLoop &loop_;
    GPtr<SoupSession> session_;
    GPtr<SoupWebsocketConnection> conn_;
    std::deque<std::string> inbox_;
    bool closed_ = false;
    int closeCode_ = 0;
    SignalConnection messageHandler_;
    SignalConnection closedHandler_;
};

// A hand-rolled WebSocket client for what libsoup's client refuses to send
// (invalid UTF-8, RSV bits, huge frames) and for a peer that never answers pings.
class RawWsClient
{
public:
    struct Frame
    {
        bool fin = true;
        int opcode = 0;
        std::string payload;
    };

    RawWsClient(TestLoop &loop, uint16_t port, const std::string &extraHeaders = "");
    ~RawWsClient();

    bool upgraded() const noexcept { return upgraded_; }
    const std::string &responseHead() const noexcept { return responseHead_; }

    void sendFrame(int opcode, const std::string &payload, bool fin = true, bool rsv1 = false);
    void sendText(const std::string &text) { sendFrame(0x1, text); }
    // Whether to answer pings (a live peer) or ignore them (a frozen one).
    void setAnswerPings(bool answer) noexcept { answerPings_ = answer; }

    // Next data or close frame (pings are answered or ignored, pongs skipped).
    std::optional<Frame> nextFrame(std::chrono::milliseconds timeout = 5s);
    std::optional<Msg> nextText(std::chrono::milliseconds timeout = 5s);
    // The close code the server sent, 1006 if the connection ended without
    // one, nullopt on timeout.
    std::optional<int> waitClosed(std::chrono::milliseconds timeout = 5s);
    size_t pingsSeen() const noexcept { return pings_; }

private:
    bool fill(std::chrono::milliseconds timeout, const std::function<bool()> &enough);
    std::optional<Frame> parseFrame();
    void writeAll(const std::string &bytes);

    TestLoop &loop_;
    GPtr<GSocket> socket_;
    std::string buffer_;
    std::string responseHead_;
    bool upgraded_ = false;
    bool eof_ = false;
    bool answerPings_ = true;
    size_t pings_ = 0;
};

// The room server running in this process on an ephemeral port of 127.0.0.1.
class InProcessServer
{
public:
    explicit InProcessServer(TestLoop &loop, signaling::RoomServerConfig config = {});
    uint16_t port() const noexcept { return port_; }
    signaling::RoomServer &server() noexcept { return *server_; }

private:
    std::unique_ptr<signaling::RoomServer> server_;
    uint16_t port_ = 0;
};

// The real roomcast-signal binary (path from $ROOMCAST_SIGNAL_BIN).
class ServerProcess
{
public:
    ServerProcess(TestLoop &loop, const std::vector<std::string> &args);
    ~ServerProcess();
    // Waits for "listening on HOST:PORT" in its log; 0 on failure.
    uint16_t waitListening(std::chrono::milliseconds timeout = 10s);
    void signal(int signum);
    // Waits for the exit; its status, or nullopt on timeout.
    std::optional<int> waitExit(std::chrono::milliseconds timeout = 10s);
    std::string log() const;

private:
    TestLoop &loop_;
    GPtr<GSubprocess> process_;
    std::string logPath_;
    bool exited_ = false;
};

std::string signalBinary();

// This process's resident memory in KiB (an in-process server counts in it); -1 if unknown.
long residentKiB();

// Runs the binary to completion: exit status, stdout and stderr.
struct RunResult
{
    int status = -1;
    std::string out;
    std::string err;
};
RunResult runBinary(const std::vector<std::string> &args);

// A temporary directory removed with its content at destruction.
class TempDir
{
public:
    TempDir();
    ~TempDir();
    const std::string &path() const noexcept { return path_; }
    std::string write(const std::string &relative, const std::string &content) const;

private:
    std::string path_;
};

// HS256 token through libjwt (tests only).
std::string makeToken(const std::string &secret, const std::string &room,
    std::optional<bool> hidden, int64_t exp, const char *alg = "HS256");

} // namespace rc::test
