// The roomcast-signal program: options, exit codes, config errors, signals, static files, IPv6.
#include "ws_test_support.h"

#include "common/protocol/room_protocol.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <ctime>
#include <filesystem>

using namespace rc::test;

namespace {

struct HttpResult
{
    guint status = 0;
    std::string body;
    std::string contentType;
};

HttpResult httpRequest(TestLoop &loop, const char *method, uint16_t port, const std::string &path)
{
    auto session = rc::adopt(soup_session_new());
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
    auto msg = rc::adopt(soup_message_new(method, url.c_str()));
    REQUIRE(msg);
    struct Pending
    {
        bool done = false;
        GBytes *body = nullptr;
    } pending;
    soup_session_send_and_read_async(
        session.get(), msg.get(), G_PRIORITY_DEFAULT, nullptr,
        [](GObject *src, GAsyncResult *res, gpointer data) {
            auto *p = static_cast<Pending *>(data);
            p->body = soup_session_send_and_read_finish(SOUP_SESSION(src), res, nullptr);
            p->done = true;
        },
        &pending);
    REQUIRE(loop.until([&] { return pending.done; }, 10s));
    HttpResult r;
    r.status = soup_message_get_status(msg.get());
    if (pending.body) {
        gsize size = 0;
        const auto *data = static_cast<const char *>(g_bytes_get_data(pending.body, &size));
        r.body.assign(data ? data : "", size);
        g_bytes_unref(pending.body);
    }
    const char *type = soup_message_headers_get_content_type(
        soup_message_get_response_headers(msg.get()), nullptr);
    r.contentType = type ? type : "";
    return r;
}

// A raw HTTP request, for paths a URI parser would normalise away.
std::string rawHttp(TestLoop &loop, uint16_t port, const std::string &requestLine)
{
    auto client = rc::adopt(g_socket_client_new());
    const std::string host = "127.0.0.1:" + std::to_string(port);
    auto conn = rc::adopt(
        g_socket_client_connect_to_host(client.get(), host.c_str(), port, nullptr, nullptr));
    REQUIRE(conn);
    GSocket *sock = g_socket_connection_get_socket(conn.get());
    const std::string req = requestLine + "\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    g_socket_send(sock, req.data(), req.size(), nullptr, nullptr);
    g_socket_set_blocking(sock, FALSE);
    std::string response;
    loop.until(
        [&] {
            char buf[4096];
            gssize n = g_socket_receive(sock, buf, sizeof buf, nullptr, nullptr);
            if (n > 0)
                response.append(buf, static_cast<size_t>(n));
            return n == 0;
        },
        5s);
    return response;
}

} // namespace

TEST_CASE("--help and --version exit 0")
{
    auto help = runBinary({ "--help" });
    CHECK(help.status == 0);
    CHECK(help.out.find("--listen") != std::string::npos);
    CHECK(help.out.find("--secret-file") != std::string::npos);
    auto version = runBinary({ "--version" });
    CHECK(version.status == 0);
    CHECK(version.out.find("roomcast-signal") != std::string::npos);
}

TEST_CASE("bad options exit 64 with one message naming the option")
{
    struct Case
    {
        std::vector<std::string> args;
        const char *mentions;
    };
    for (const Case &c : std::vector<Case> {
             { { "--no-such-option" }, "--no-such-option" },
             { { "--listen", "nowhere" }, "--listen" },
             { { "--listen", "127.0.0.1:70000" }, "--listen" },
             { { "--listen" }, "--listen" },
             { { "--max-peers-per-room", "-3" }, "--max-peers-per-room" },
             { { "--max-peers-per-room", "many" }, "--max-peers-per-room" },
             { { "--log-level", "loud" }, "--log-level" },
             { { "--static", "/nonexistent/dir" }, "--static" },
             { { "--secret-file", "/nonexistent/secret" }, "--secret-file" },
             { { "--ping-interval", "10", "--peer-timeout", "5" }, "peer-timeout" },
             { { "--join-timeout", "0" }, "--join-timeout" },
             { { "--max-queued-bytes", "1000" }, "--max-queued-bytes" },
             { { "--max-connections", "some" }, "--max-connections" },
             { { "stray-positional" }, "" },
         }) {
        auto r = runBinary(c.args);
        INFO(c.args.front() << ": " << r.err);
        CHECK(r.status == 64);
        CHECK(r.err.find(c.mentions) != std::string::npos);
        CHECK(r.out.empty());
    }
}

TEST_CASE("a bad config file exits 78 naming file and line")
{
    TempDir dir;
    struct Case
    {
        std::string content;
        int line;
    };
    for (const Case &c : std::vector<Case> {
             { "# comment\nlisten = 127.0.0.1:0\nno-such-key = 1\n", 3 },
             { "listen = 127.0.0.1:0\n\nmax-peers-per-room = lots\n", 3 },
             { "listen = here\n", 1 },
             { "log-level = info\nthis line has no equals sign\n", 2 },
             { "\n\n\n\nsecret-file = /nonexistent/secret\n", 5 },
         }) {
        const std::string path = dir.write("bad.conf", c.content);
        auto r = runBinary({ "--config", path, "--check-config" });
        INFO(c.content << r.err);
        CHECK(r.status == 78);
        CHECK(r.err.find(path + ":" + std::to_string(c.line)) != std::string::npos);
    }
    // A missing config file is a config error too.
    auto r = runBinary({ "--config", dir.path() + "/absent.conf" });
    CHECK(r.status == 78);
    CHECK(r.err.find("absent.conf") != std::string::npos);
}

TEST_CASE("the command line wins over the config file, drop-ins over the file")
{
    TempDir dir;
    const std::string conf = dir.write("signal.conf", "listen = bogus\nmax-peers-per-room = 5\n");
    // The bad listen value in the file is never used: the command line replaces it.
    auto r = runBinary({ "--config", conf, "--listen", "127.0.0.1:0", "--check-config" });
    CHECK(r.status == 0);
    CHECK(r.out == "OK\n");
    dir.write("signal.conf.d/10-fix.conf", "listen = 127.0.0.1:0\n");
    r = runBinary({ "--config", conf, "--check-config" });
    CHECK(r.status == 0);
    dir.write("signal.conf.d/20-break.conf", "log-level = chatty\n");
    r = runBinary({ "--config", conf, "--check-config" });
    CHECK(r.status == 78);
    CHECK(r.err.find("20-break.conf:1") != std::string::npos);
}

TEST_CASE("the binary listens on an ephemeral port, logs it, and stops on SIGTERM closing clients "
          "with 1001")
{
    TestLoop loop;
    const int signum = GENERATE(SIGTERM, SIGINT);
    ServerProcess proc(loop, { "--listen", "127.0.0.1:0" });
    const uint16_t port = proc.waitListening();
    REQUIRE(port != 0);
    CHECK(proc.log().find("development mode") != std::string::npos);

    WsClient a(loop, port);
    WsClient b(loop, port);
    REQUIRE(a.connected());
    REQUIRE(b.connected());
    a.join("sig", "a");
    b.join("sig", "b");
    REQUIRE(a.nextOfType("peer-joined"));

    proc.signal(signum);
    CHECK(a.waitClosed() == 1001);
    CHECK(b.waitClosed() == 1001);
    CHECK(proc.waitExit() == 0);
    const std::string log = proc.log();
    CHECK(log.find("join room=sig") != std::string::npos);
    // Nobody is sent a peer-left during the shutdown.
    CHECK(a.pending() == 0);
}

TEST_CASE("the binary loads its secret and checks tokens")
{
    TestLoop loop;
    TempDir dir;
    const std::string secretFile = dir.write("secret", "binary-secret \n\t\n");
    ServerProcess proc(loop, { "--listen", "127.0.0.1:0", "--secret-file", secretFile });
    const uint16_t port = proc.waitListening();
    REQUIRE(port != 0);
    CHECK(proc.log().find("development mode") == std::string::npos);
    const int64_t exp = static_cast<int64_t>(time(nullptr)) + 60;
    WsClient ok(loop, port);
    CHECK_FALSE(
        ok.join("r", std::nullopt, true, makeToken("binary-secret", "r", true, exp)).empty());
    WsClient bad(loop, port);
    bad.send(rc::protocol::encodeJoin(
        { "r", std::nullopt, false, makeToken("binary-secret \n", "r", {}, exp) }));
    auto m = bad.next();
    REQUIRE(m);
    CHECK(m->str("code") == "unauthorized");
    CHECK(bad.waitClosed() == 4401);
}

TEST_CASE("--static serves the web client and nothing outside it")
{
    TestLoop loop;
    TempDir dir;
    dir.write("site/index.html", "<!doctype html><title>roomcast</title>");
    dir.write("site/assets/app.js", "console.log('hi')");
    dir.write("site/assets/style.css", "body{}");
    dir.write("site/assets/logo.svg", "<svg/>");
    dir.write("site/config.json", "{}");
    dir.write("site/app.wasm", std::string("\0asm", 4));
    dir.write("site/app.js.map", "{}");
    dir.write("site/favicon.ico", "ico");
    dir.write("site/img.png", "\x89PNG");
    dir.write("site/.env", "SECRET=1");
    dir.write("site/notes.xyz", "unknown type");
    dir.write("outside.html", "<p>secret</p>");
    std::filesystem::create_directory_symlink(dir.path(), dir.path() + "/site/escape");

    ServerProcess proc(loop, { "--listen", "127.0.0.1:0", "--static", dir.path() + "/site" });
    const uint16_t port = proc.waitListening();
    REQUIRE(port != 0);

    auto index = httpRequest(loop, "GET", port, "/");
    CHECK(index.status == 200);
    CHECK(index.contentType == "text/html");
    CHECK(index.body.find("roomcast") != std::string::npos);
    CHECK(httpRequest(loop, "GET", port, "/index.html").status == 200);

    const std::vector<std::pair<std::string, std::string>> types = {
        { "/assets/app.js", "text/javascript" },
        { "/assets/style.css", "text/css" },
        { "/assets/logo.svg", "image/svg+xml" },
        { "/config.json", "application/json" },
        { "/app.wasm", "application/wasm" },
        { "/app.js.map", "application/json" },
        { "/favicon.ico", "image/x-icon" },
        { "/img.png", "image/png" },
    };
    for (const auto &[path, type] : types) {
        auto r = httpRequest(loop, "GET", port, path);
        INFO(path);
        CHECK(r.status == 200);
        CHECK(r.contentType == type);
    }

    auto head = httpRequest(loop, "HEAD", port, "/assets/app.js");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(httpRequest(loop, "POST", port, "/index.html").status == 405);
    for (const char *path : { "/missing.html", "/.env", "/notes.xyz", "/escape/outside.html",
             "/assets/%2e%2e/%2e%2e/outside.html", "/assets%2f..%2f..%2foutside.html",
             "/%00index.html", "/assets/" }) {
        INFO(path);
        // libsoup itself answers 400 to some of these before we see them.
        auto r = httpRequest(loop, "GET", port, path);
        CHECK((r.status == 404 || r.status == 400));
        CHECK(r.body.find("secret") == std::string::npos);
    }
    for (const char *line :
        { "GET /../outside.html HTTP/1.1", "GET /assets/../../outside.html HTTP/1.1",
            "GET /..%2foutside.html HTTP/1.1", "GET ../outside.html HTTP/1.1" }) {
        INFO(line);
        const std::string response = rawHttp(loop, port, line);
        CHECK(response.find("secret") == std::string::npos);
        CHECK(response.rfind("HTTP/1.1 200", 0) != 0);
    }
    // The WebSocket endpoint still works next to the files.
    WsClient c(loop, port);
    CHECK_FALSE(c.join("web").empty());
}

TEST_CASE("IPv6 loopback listen address")
{
    TestLoop loop;
    // Skip quietly where the machine has no IPv6 loopback.
    auto probe = rc::adopt(
        g_socket_new(G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr));
    auto any = rc::adopt(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV6));
    auto addr = rc::adopt(g_inet_socket_address_new(any.get(), 0));
    if (!probe || !g_socket_bind(probe.get(), addr.get(), TRUE, nullptr)) {
        WARN("no IPv6 loopback here");
        return;
    }
    ServerProcess proc(loop, { "--listen", "[::1]:0" });
    const uint16_t port = proc.waitListening();
    REQUIRE(port != 0);
    CHECK(proc.log().find("listening on [::1]:") != std::string::npos);
    WsClient c(loop, port, "[::1]");
    REQUIRE(c.connected());
    CHECK_FALSE(c.join("v6").empty());
}

TEST_CASE("the binary applies its resource limits: join timeout and connection cap")
{
    TestLoop loop;
    ServerProcess proc(loop,
        { "--listen", "127.0.0.1:0", "--join-timeout", "1", "--max-connections", "1",
            "--max-queued-bytes", "200000" });
    const uint16_t port = proc.waitListening();
    REQUIRE(port != 0);
    CHECK(proc.log().find("limits: join timeout 1000 ms, at most 200000 bytes queued per "
                          "connection, max connections 1")
        != std::string::npos);

    WsClient lazy(loop, port);
    REQUIRE(lazy.connected());
    RawWsClient refused(loop, port);
    CHECK(refused.responseHead().rfind("HTTP/1.1 503", 0) == 0);

    auto m = lazy.next(5s);
    REQUIRE(m);
    CHECK(m->str("code") == "join-timeout");
    CHECK(lazy.waitClosed() == 4408);
    // The place is free again.
    CHECK(loop.until(
        [&] {
            WsClient next(loop, port);
            return next.connected();
        },
        5s));
    CHECK(proc.log().find("code=join-timeout") != std::string::npos);
}
