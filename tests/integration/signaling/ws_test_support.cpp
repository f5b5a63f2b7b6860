// Test support implementation; see ws_test_support.h.
#include "ws_test_support.h"

#include "common/base/json.h"
#include "common/base/main_context.h"

#include <jwt.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace rc::test {

// ---- TestLoop ---------------------------------------------------------------

TestLoop::TestLoop()
    : ctx_(adopt(g_main_context_new()))
{
    g_main_context_push_thread_default(ctx_.get());
}

TestLoop::~TestLoop()
{
    // Let pending closes and idles run so that nothing leaks into the next test.
    for (int i = 0; i < 100 && g_main_context_iteration(ctx_.get(), FALSE); ++i) { }
    g_main_context_pop_thread_default(ctx_.get());
}

bool TestLoop::until(const std::function<bool()> &pred, std::chrono::milliseconds timeout)
{
    return iterateUntil(ctx_.get(), pred, timeout);
}

void TestLoop::runFor(std::chrono::milliseconds duration)
{
    iterateUntil(
        ctx_.get(), [] { return false; }, duration);
}

// ---- Msg --------------------------------------------------------------------

JsonObject *Msg::object() const
{
    return root && JSON_NODE_HOLDS_OBJECT(root.get()) ? json_node_get_object(root.get()) : nullptr;
}
std::string Msg::type() const
{
    return str("type").value_or("");
}
std::optional<std::string> Msg::str(const char *field) const
{
    return json::stringMember(object(), field);
}
std::optional<bool> Msg::boolean(const char *field) const
{
    return json::boolMember(object(), field);
}
bool Msg::has(const char *field) const
{
    return json::hasMember(object(), field);
}

namespace {
Msg toMsg(std::string text)
{
    std::string error;
    Msg m;
    m.root = json::parse(text, error, 64);
    m.text = std::move(text);
    return m;
}
} // namespace

// ---- WsClient ---------------------------------------------------------------

WsClient::WsClient(TestLoop &loop, uint16_t port, const std::string &host, bool offerDeflate)
    : loop_(loop)
    , session_(adopt(soup_session_new()))
{
    if (offerDeflate)
        soup_session_add_feature_by_type(session_.get(), SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);
    std::string url = "ws://" + host + ":" + std::to_string(port) + "/ws";
    auto msg = adopt(soup_message_new("GET", url.c_str()));
    struct Pending
    {
        bool done = false;
        SoupWebsocketConnection *conn = nullptr;
    } pending;
    soup_session_websocket_connect_async(
        session_.get(), msg.get(), nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
        [](GObject *source, GAsyncResult *result, gpointer data) {
            auto *p = static_cast<Pending *>(data);
            p->conn = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, nullptr);
            p->done = true;
        },
        &pending);
    loop_.until([&] { return pending.done; }, 10s);
    if (!pending.conn)
        return;
    conn_ = adopt(pending.conn);
    // Large enough for the oversize echo tests' answers; the default is 128 KiB.
    soup_websocket_connection_set_max_incoming_payload_size(conn_.get(), 1 << 20);
    messageHandler_ = SignalConnection(conn_.get(),
        g_signal_connect(conn_.get(), "message", G_CALLBACK(&WsClient::onMessage), this));
    closedHandler_ = SignalConnection(conn_.get(),
        g_signal_connect(conn_.get(), "closed", G_CALLBACK(&WsClient::onClosed), this));
}

WsClient::~WsClient()
{
    messageHandler_.reset();
    closedHandler_.reset();
    if (conn_ && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(conn_.get(), 1000, nullptr);
}

void WsClient::onMessage(SoupWebsocketConnection *, gint, GBytes *message, gpointer data) noexcept
{
    gsize size = 0;
    const auto *p = static_cast<const char *>(g_bytes_get_data(message, &size));
    static_cast<WsClient *>(data)->inbox_.emplace_back(p ? p : "", size);
}

void WsClient::onClosed(SoupWebsocketConnection *conn, gpointer data) noexcept
{
    auto *self = static_cast<WsClient *>(data);
    self->closed_ = true;
    self->closeCode_ = soup_websocket_connection_get_close_code(conn);
}

void WsClient::send(const std::string &text)
{
    if (conn_ && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text(conn_.get(), text.c_str());
}

void WsClient::sendBinary(const std::string &bytes)
{
    if (conn_ && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_binary(conn_.get(), bytes.data(), bytes.size());
}

void WsClient::close(unsigned short code)
{
    if (conn_ && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(conn_.get(), code, nullptr);
}

std::optional<Msg> WsClient::next(std::chrono::milliseconds timeout)
{
    if (!loop_.until([&] { return !inbox_.empty(); }, timeout))
        return std::nullopt;
    std::string text = std::move(inbox_.front());
    inbox_.pop_front();
    return toMsg(std::move(text));
}

std::optional<Msg> WsClient::nextOfType(const std::string &type, std::chrono::milliseconds timeout)
{
    const gint64 deadline = g_get_monotonic_time() + timeout.count() * 1000;
    while (true) {
        const gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            return std::nullopt;
        auto m = next(std::chrono::milliseconds(left));
        if (!m)
            return std::nullopt;
        if (m->type() == type)
            return m;
    }
}

bool WsClient::silentFor(std::chrono::milliseconds window)
{
    loop_.until([&] { return !inbox_.empty(); }, window);
    return inbox_.empty();
}

std::optional<int> WsClient::waitClosed(std::chrono::milliseconds timeout)
{
    if (!loop_.until([&] { return closed_; }, timeout))
        return std::nullopt;
    return closeCode_;
}

std::string WsClient::join(const std::string &room, const std::optional<std::string> &name,
    bool hidden, const std::optional<std::string> &token)
{
    protocol::Join j { room, name, hidden, token };
    send(protocol::encodeJoin(j));
    auto m = next();
    if (!m || m->type() != "welcome")
        return "";
    return m->str("id").value_or("");
}

// ---- RawWsClient ------------------------------------------------------------

RawWsClient::RawWsClient(TestLoop &loop, uint16_t port, const std::string &extraHeaders)
    : loop_(loop)
{
    GError *error = nullptr;
    socket_ = adopt(
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error));
    if (!socket_)
        throw std::runtime_error(error->message);
    auto inet = adopt(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
    auto addr = adopt(g_inet_socket_address_new(inet.get(), port));
    // A connect to a listening loopback socket completes in the kernel's
    // backlog, so blocking here does not need the server to run.
    if (!g_socket_connect(socket_.get(), addr.get(), nullptr, &error))
        throw std::runtime_error(error->message);
    g_socket_set_blocking(socket_.get(), FALSE);
    writeAll("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port)
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + extraHeaders + "\r\n");
    fill(5s, [&] { return buffer_.find("\r\n\r\n") != std::string::npos; });
    auto end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos)
        return;
    responseHead_ = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    upgraded_ = responseHead_.rfind("HTTP/1.1 101", 0) == 0;
}

RawWsClient::~RawWsClient()
{
    if (socket_)
        g_socket_close(socket_.get(), nullptr);
}

void RawWsClient::writeAll(const std::string &bytes)
{
    size_t off = 0;
    const gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (off < bytes.size() && g_get_monotonic_time() < deadline) {
        GError *error = nullptr;
        gssize n
            = g_socket_send(socket_.get(), bytes.data() + off, bytes.size() - off, nullptr, &error);
        if (n > 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        auto err = adopt(error);
        if (err && !g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return; // the server closed on us; the test reads the close
        // Let the in-process server read what we sent so far.
        g_main_context_iteration(loop_.context(), FALSE);
        g_usleep(1000);
    }
}

bool RawWsClient::fill(std::chrono::milliseconds timeout, const std::function<bool()> &enough)
{
    return loop_.until(
               [&] {
                   char chunk[65536];
                   while (!eof_) {
                       GError *error = nullptr;
                       gssize n
                           = g_socket_receive(socket_.get(), chunk, sizeof chunk, nullptr, &error);
                       auto err = adopt(error);
                       if (n > 0) {
                           buffer_.append(chunk, static_cast<size_t>(n));
                           continue;
                       }
                       if (n == 0
                           || (err
                               && !g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)))
                           eof_ = true;
                       break;
                   }
                   return enough() || eof_;
               },
               timeout)
        && enough();
}

void RawWsClient::sendFrame(int opcode, const std::string &payload, bool fin, bool rsv1)
{
    std::string frame;
    frame += static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f));
    const size_t len = payload.size();
    if (len < 126) {
        frame += static_cast<char>(0x80 | len);
    } else if (len < 65536) {
        frame += static_cast<char>(0x80 | 126);
        frame += static_cast<char>((len >> 8) & 0xff);
        frame += static_cast<char>(len & 0xff);
    } else {
        frame += static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            frame += static_cast<char>((static_cast<uint64_t>(len) >> shift) & 0xff);
    }
    const unsigned char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
    frame.append(reinterpret_cast<const char *>(mask), 4);
    std::string masked = payload;
    for (size_t i = 0; i < masked.size(); ++i)
        masked[i] = static_cast<char>(masked[i] ^ mask[i & 3]);
    writeAll(frame + masked);
}

std::optional<RawWsClient::Frame> RawWsClient::parseFrame()
{
    if (buffer_.size() < 2)
        return std::nullopt;
    const auto *b = reinterpret_cast<const unsigned char *>(buffer_.data());
    size_t len = b[1] & 0x7f;
    size_t header = 2;
    if (len == 126) {
        if (buffer_.size() < 4)
            return std::nullopt;
        len = (size_t(b[2]) << 8) | b[3];
        header = 4;
    } else if (len == 127) {
        if (buffer_.size() < 10)
            return std::nullopt;
        len = 0;
        for (int i = 0; i < 8; ++i)
            len = (len << 8) | b[2 + i];
        header = 10;
    }
    if (buffer_.size() < header + len)
        return std::nullopt;
    Frame f { (b[0] & 0x80) != 0, b[0] & 0x0f, buffer_.substr(header, len) };
    buffer_.erase(0, header + len);
    return f;
}

std::optional<RawWsClient::Frame> RawWsClient::nextFrame(std::chrono::milliseconds timeout)
{
    const gint64 deadline = g_get_monotonic_time() + timeout.count() * 1000;
    while (true) {
        if (auto f = parseFrame()) {
            if (f->opcode == 0x9) {
                ++pings_;
                if (answerPings_)
                    sendFrame(0xA, f->payload);
                continue;
            }
            if (f->opcode == 0xA)
                continue;
            return f;
        }
        const gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0 || eof_)
            return std::nullopt;
        const size_t before = buffer_.size();
        fill(std::chrono::milliseconds(left), [&] { return buffer_.size() > before; });
    }
}

std::optional<Msg> RawWsClient::nextText(std::chrono::milliseconds timeout)
{
    auto f = nextFrame(timeout);
    if (!f || f->opcode != 0x1)
        return std::nullopt;
    return toMsg(f->payload);
}

std::optional<int> RawWsClient::waitClosed(std::chrono::milliseconds timeout)
{
    const gint64 deadline = g_get_monotonic_time() + timeout.count() * 1000;
    while (true) {
        const gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        auto f = nextFrame(std::chrono::milliseconds(std::max<gint64>(left, 0)));
        if (f && f->opcode == 0x8) {
            if (f->payload.size() < 2)
                return 1005;
            return (static_cast<unsigned char>(f->payload[0]) << 8)
                | static_cast<unsigned char>(f->payload[1]);
        }
        if (!f && eof_)
            return 1006;
        if (!f)
            return std::nullopt;
    }
}

// ---- InProcessServer ---------------------------------------------------------

InProcessServer::InProcessServer(TestLoop &loop, signaling::RoomServerConfig config)
{
    config.host = "127.0.0.1";
    config.port = 0;
    server_ = std::make_unique<signaling::RoomServer>(std::move(config), loop.context());
    port_ = server_->start();
}

// ---- ServerProcess -----------------------------------------------------------

long residentKiB()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return -1;
}

std::string signalBinary()
{
    const char *path = std::getenv("ROOMCAST_SIGNAL_BIN");
    if (!path)
        throw std::runtime_error("ROOMCAST_SIGNAL_BIN is not set (run through meson test)");
    return path;
}

namespace {
std::vector<const char *> argvOf(const std::vector<std::string> &args, std::string &binary)
{
    binary = signalBinary();
    std::vector<const char *> argv { binary.c_str() };
    for (const auto &a : args)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    return argv;
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}
} // namespace

ServerProcess::ServerProcess(TestLoop &loop, const std::vector<std::string> &args)
    : loop_(loop)
{
    GPtr<char> tmpl(g_build_filename(g_get_tmp_dir(), "roomcast-signal-XXXXXX.log", nullptr));
    int fd = g_mkstemp(tmpl.get());
    if (fd >= 0)
        ::close(fd);
    logPath_ = tmpl.get();
    auto launcher = adopt(g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE));
    g_subprocess_launcher_set_stderr_file_path(launcher.get(), logPath_.c_str());
    g_subprocess_launcher_set_stdout_file_path(launcher.get(), "/dev/null");
    std::string binary;
    auto argv = argvOf(args, binary);
    GError *error = nullptr;
    process_ = adopt(g_subprocess_launcher_spawnv(launcher.get(), argv.data(), &error));
    if (!process_)
        throw std::runtime_error(error->message);
    g_subprocess_wait_async(
        process_.get(), nullptr,
        [](GObject *source, GAsyncResult *res, gpointer data) {
            g_subprocess_wait_finish(G_SUBPROCESS(source), res, nullptr);
            *static_cast<bool *>(data) = true;
        },
        &exited_);
}

ServerProcess::~ServerProcess()
{
    if (!exited_) {
        g_subprocess_force_exit(process_.get());
        loop_.until([&] { return exited_; }, 5s);
    }
    std::remove(logPath_.c_str());
}

uint16_t ServerProcess::waitListening(std::chrono::milliseconds timeout)
{
    static const std::regex re("listening on (?:\\[[0-9a-fA-F:]+\\]|[0-9.]+):([0-9]+)");
    std::smatch m;
    uint16_t port = 0;
    loop_.until(
        [&] {
            std::string text = readFile(logPath_);
            if (std::regex_search(text, m, re)) {
                port = static_cast<uint16_t>(std::stoi(m[1].str()));
                return true;
            }
            return exited_;
        },
        timeout);
    return port;
}

void ServerProcess::signal(int signum)
{
    g_subprocess_send_signal(process_.get(), signum);
}

std::optional<int> ServerProcess::waitExit(std::chrono::milliseconds timeout)
{
    if (!loop_.until([&] { return exited_; }, timeout))
        return std::nullopt;
    if (g_subprocess_get_if_exited(process_.get()))
        return g_subprocess_get_exit_status(process_.get());
    return 128 + g_subprocess_get_term_sig(process_.get());
}

std::string ServerProcess::log() const
{
    return readFile(logPath_);
}

RunResult runBinary(const std::vector<std::string> &args)
{
    std::string binary;
    auto argv = argvOf(args, binary);
    GError *error = nullptr;
    auto process = adopt(g_subprocess_newv(argv.data(),
        static_cast<GSubprocessFlags>(
            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE),
        &error));
    if (!process)
        throw std::runtime_error(error->message);
    char *out = nullptr, *err = nullptr;
    g_subprocess_communicate_utf8(process.get(), nullptr, nullptr, &out, &err, nullptr);
    RunResult r;
    r.out = takeString(out);
    r.err = takeString(err);
    r.status = g_subprocess_get_if_exited(process.get())
        ? g_subprocess_get_exit_status(process.get())
        : -1;
    return r;
}

// ---- TempDir -----------------------------------------------------------------

TempDir::TempDir()
{
    GError *error = nullptr;
    char *dir = g_dir_make_tmp("roomcast-test-XXXXXX", &error);
    if (!dir)
        throw std::runtime_error(error->message);
    path_ = takeString(dir);
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string &relative, const std::string &content) const
{
    std::filesystem::path p = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
}

// ---- tokens --------------------------------------------------------------------

std::string makeToken(const std::string &secret, const std::string &room,
    std::optional<bool> hidden, int64_t exp, const char *alg)
{
    jwt_t *jwt = nullptr;
    jwt_new(&jwt);
    jwt_add_grant(jwt, "room", room.c_str());
    if (hidden)
        jwt_add_grant_bool(jwt, "hidden", *hidden ? 1 : 0);
    jwt_add_grant_int(jwt, "exp", static_cast<long>(exp));
    const jwt_alg_t a = jwt_str_alg(alg);
    if (a == JWT_ALG_NONE)
        jwt_set_alg(jwt, JWT_ALG_NONE, nullptr, 0);
    else
        jwt_set_alg(jwt, a, reinterpret_cast<const unsigned char *>(secret.data()),
            static_cast<int>(secret.size()));
    char *encoded = jwt_encode_str(jwt);
    std::string token = encoded ? encoded : "";
    std::free(encoded);
    jwt_free(jwt);
    return token;
}

} // namespace rc::test
