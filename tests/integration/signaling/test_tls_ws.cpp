// The room server over TLS: HTTPS and WSS with a throwaway CA made by openssl, a client that
// verifies the server (never a disabled check), certificate reload on SIGHUP, and clear
// start-up errors for bad files. Runs the real roomcast-signal binary on 127.0.0.1.
#include "ws_test_support.h"

#include "common/base/soup_ptr.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>

using namespace rc::test;

namespace {

void run(const std::vector<std::string> &argv, const std::string &cwd)
{
    std::vector<const char *> args;
    for (const auto &a : argv)
        args.push_back(a.c_str());
    args.push_back(nullptr);
    gchar *out = nullptr, *err = nullptr;
    gint status = -1;
    GError *error = nullptr;
    const bool ok = g_spawn_sync(cwd.c_str(), const_cast<gchar **>(args.data()), nullptr,
        G_SPAWN_SEARCH_PATH, nullptr, nullptr, &out, &err, &status, &error);
    const std::string errText = rc::takeString(err);
    rc::takeString(out);
    auto e = rc::adopt(error);
    INFO(argv[0] << " " << argv[1] << ": " << errText << (e ? e->message : ""));
    REQUIRE(ok);
    REQUIRE(g_spawn_check_wait_status(status, nullptr));
}

// A CA and server certificates for 127.0.0.1 signed by it, in dir.
struct Pki
{
    std::string dir;
    explicit Pki(const std::string &d)
        : dir(d)
    {
        run({ "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=roomcast test CA", "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign" },
            dir);
        std::ofstream(dir + "/ext.cnf") << "subjectAltName=IP:127.0.0.1\n"
                                           "basicConstraints=CA:FALSE\n"
                                           "extendedKeyUsage=serverAuth\n";
    }
    // server-NAME.pem and server-NAME.key
    void server(const std::string &name)
    {
        run({ "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "server-" + name + ".key", "-out", name + ".csr", "-subj",
                "/CN=roomcast " + name },
            dir);
        run({ "openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "server-" + name + ".pem", "-days", "2", "-extfile",
                "ext.cnf" },
            dir);
    }
    std::string path(const std::string &file) const { return dir + "/" + file; }
};

// A WSS client trusting only caFile (no system CAs): connects, or says why not.
struct WssClient
{
    rc::GPtr<SoupSession> session = rc::adopt(soup_session_new());
    rc::GPtr<SoupWebsocketConnection> conn;
    rc::GPtr<GTlsCertificate> peer;
    std::string error;

    WssClient(TestLoop &loop, uint16_t port, const std::string &caFile, const char *scheme = "wss")
    {
        if (!caFile.empty()) {
            GError *raw = nullptr;
            auto db = rc::adopt(g_tls_file_database_new(caFile.c_str(), &raw));
            rc::adopt(raw);
            REQUIRE(db);
            soup_session_set_tls_database(session.get(), db.get());
        }
        const std::string url
            = std::string(scheme) + "://127.0.0.1:" + std::to_string(port) + "/ws";
        auto msg = rc::adopt(soup_message_new("GET", url.c_str()));
        // Shared with the callback, which runs even after a timeout (then cancelled), when this
        // frame may be gone.
        struct Pending
        {
            bool done = false;
            rc::GPtr<SoupWebsocketConnection> conn;
            std::string error;
        };
        auto pending = std::make_shared<Pending>();
        auto cancel = rc::adopt(g_cancellable_new());
        soup_session_websocket_connect_async(
            session.get(), msg.get(), nullptr, nullptr, G_PRIORITY_DEFAULT, cancel.get(),
            [](GObject *source, GAsyncResult *result, gpointer data) noexcept {
                std::unique_ptr<std::shared_ptr<Pending>> p(
                    static_cast<std::shared_ptr<Pending> *>(data));
                GError *raw = nullptr;
                (*p)->conn = rc::adopt(
                    soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &raw));
                if (raw) {
                    (*p)->error = raw->message;
                    g_error_free(raw);
                }
                (*p)->done = true;
            },
            new std::shared_ptr<Pending>(pending));
        if (!loop.until([&] { return pending->done; }, 20s)) {
            g_cancellable_cancel(cancel.get());
            error = "no answer within 20 s";
            return;
        }
        error = pending->error;
        if (!pending->conn)
            return;
        conn = std::move(pending->conn);
        if (GTlsCertificate *c = soup_message_get_tls_peer_certificate(msg.get()))
            peer = rc::ref(c);
    }
};

rc::GPtr<GTlsCertificate> certificateFile(const std::string &path)
{
    GError *raw = nullptr;
    auto cert = rc::adopt(g_tls_certificate_new_from_file(path.c_str(), &raw));
    rc::adopt(raw);
    REQUIRE(cert);
    return cert;
}

} // namespace

TEST_CASE("with a certificate the server speaks WSS and HTTPS, verified against its CA; "
          "SIGHUP reloads the certificate for new connections")
{
    TempDir dir;
    Pki pki(dir.path());
    pki.server("a");
    pki.server("b");
    const std::string cert = dir.path() + "/server.pem", key = dir.path() + "/server.key";
    std::filesystem::copy_file(pki.path("server-a.pem"), cert);
    std::filesystem::copy_file(pki.path("server-a.key"), key);
    dir.write("web/index.html", "<!doctype html><title>roomcast</title>");

    TestLoop loop;
    ServerProcess server(loop,
        { "--listen", "127.0.0.1:0", "--tls-certificate", cert, "--tls-key", key, "--static",
            dir.path() + "/web" });
    const uint16_t port = server.waitListening();
    REQUIRE(port != 0);
    CHECK(server.log().find("(TLS)") != std::string::npos);
    CHECK(server.log().find("subject CN=roomcast a") != std::string::npos);

    WssClient first(loop, port, pki.path("ca.pem"));
    INFO(first.error);
    REQUIRE(first.conn);
    REQUIRE(first.peer);
    CHECK(g_tls_certificate_is_same(
        first.peer.get(), certificateFile(pki.path("server-a.pem")).get()));

    SECTION("HTTPS serves the web client; a client without the CA is refused; plain WS fails")
    {
        auto msg = rc::adopt(
            soup_message_new("GET", ("https://127.0.0.1:" + std::to_string(port) + "/").c_str()));
        soup_session_set_tls_database(first.session.get(), nullptr);
        WssClient trusting(loop, port, pki.path("ca.pem"));
        GError *raw = nullptr;
        auto body = rc::adopt(
            soup_session_send_and_read(trusting.session.get(), msg.get(), nullptr, &raw));
        auto e = rc::adopt(raw);
        INFO((e ? e->message : ""));
        REQUIRE(body);
        CHECK(soup_message_get_status(msg.get()) == SOUP_STATUS_OK);

        WssClient stranger(loop, port, ""); // the system CAs only: ours is not among them
        CHECK_FALSE(stranger.conn);
        CHECK_FALSE(stranger.error.empty());
        WssClient plain(loop, port, pki.path("ca.pem"), "ws");
        CHECK_FALSE(plain.conn);
    }
    SECTION("SIGHUP: new connections get the renewed certificate, open ones stay")
    {
        std::filesystem::copy_file(
            pki.path("server-b.pem"), cert, std::filesystem::copy_options::overwrite_existing);
        std::filesystem::copy_file(
            pki.path("server-b.key"), key, std::filesystem::copy_options::overwrite_existing);
        server.signal(SIGHUP);
        REQUIRE(loop.until(
            [&] { return server.log().find("reload: TLS certificate") != std::string::npos; }));
        WssClient second(loop, port, pki.path("ca.pem"));
        INFO(second.error);
        REQUIRE(second.conn);
        REQUIRE(second.peer);
        CHECK(g_tls_certificate_is_same(
            second.peer.get(), certificateFile(pki.path("server-b.pem")).get()));
        CHECK(soup_websocket_connection_get_state(first.conn.get()) == SOUP_WEBSOCKET_STATE_OPEN);

        // A broken file at the next reload keeps the certificate in use.
        std::ofstream(key, std::ios::trunc) << "not a key\n";
        server.signal(SIGHUP);
        REQUIRE(loop.until([&] {
            return server.log().find("keeping the certificate in use") != std::string::npos;
        }));
        WssClient third(loop, port, pki.path("ca.pem"));
        INFO(third.error);
        REQUIRE(third.conn);
        CHECK(g_tls_certificate_is_same(
            third.peer.get(), certificateFile(pki.path("server-b.pem")).get()));
    }
    server.signal(SIGTERM);
    CHECK(server.waitExit() == 0);
}

TEST_CASE("bad or missing TLS files are a clear start-up error naming the file")
{
    TempDir dir;
    Pki pki(dir.path());
    pki.server("a");
    const std::string cert = pki.path("server-a.pem"), key = pki.path("server-a.key");
    const std::string missing = dir.path() + "/nowhere.pem";
    dir.write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n");

    auto r
        = runBinary({ "--listen", "127.0.0.1:0", "--tls-certificate", missing, "--tls-key", key });
    CHECK(r.status != 0);
    CHECK(r.err.find(missing) != std::string::npos);

    r = runBinary({ "--listen", "127.0.0.1:0", "--tls-certificate", cert, "--tls-key", cert });
    CHECK(r.status != 0);
    CHECK(r.err.find(cert) != std::string::npos);
    CHECK(r.err.find("private key") != std::string::npos);

    r = runBinary({ "--listen", "127.0.0.1:0", "--tls-certificate", dir.path() + "/garbage.pem",
        "--tls-key", key });
    CHECK(r.status != 0);
    CHECK(r.err.find("garbage.pem") != std::string::npos);

    r = runBinary({ "--listen", "127.0.0.1:0", "--tls-certificate", cert });
    CHECK(r.status != 0);
    CHECK(r.err.find("--tls-certificate and --tls-key go together") != std::string::npos);

    // The same from a config file, with its name and line, and with --check-config.
    const std::string conf = dir.write("signal.conf",
        "listen = 127.0.0.1:0\ntls-certificate = " + missing + "\ntls-key = " + key + "\n");
    r = runBinary({ "--check-config", "--config", conf });
    CHECK(r.status == 78);
    CHECK(r.err.find(missing) != std::string::npos);
    CHECK(r.err.find("signal.conf") != std::string::npos);
}
