// loadTlsCertificate: a certificate and key from PEM files, errors that name the file, and the
// ownership of what it returns (the sanitizer pass cannot check that one for us: lsan.supp
// suppresses g_tls_certificate_new_from_files because libsoup 3.2 keeps replaced certificates).
#include "common/ops/tls_files.h"

#include <catch2/catch.hpp>

#include <glib/gstdio.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

// A throwaway self-signed certificate and key (openssl, as the TLS tests make them) and a file
// that is not PEM, in a temporary folder removed at the end.
struct Pki
{
    std::string dir;
    std::string cert, key, notPem;

    Pki()
    {
        gchar *raw = g_dir_make_tmp("roomcast-tls-XXXXXX", nullptr);
        REQUIRE(raw);
        dir = raw;
        g_free(raw);
        cert = dir + "/cert.pem";
        key = dir + "/key.pem";
        notPem = dir + "/not-pem.txt";
        run({ "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", "/CN=roomcast-unit", "-keyout", key, "-out", cert });
        std::ofstream(notPem) << "not a PEM file\n";
    }
    ~Pki()
    {
        for (const auto &f : { cert, key, notPem })
            g_unlink(f.c_str());
        g_rmdir(dir.c_str());
    }

    static void run(std::vector<std::string> args)
    {
        std::vector<char *> argv;
        for (auto &a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        gint status = -1;
        GError *error = nullptr;
        const gboolean spawned = g_spawn_sync(nullptr, argv.data(), nullptr,
            GSpawnFlags(
                G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL),
            nullptr, nullptr, nullptr, nullptr, &status, &error);
        if (error)
            g_error_free(error);
        REQUIRE(spawned);
        REQUIRE(g_spawn_check_wait_status(status, nullptr));
    }
};

} // namespace

TEST_CASE("loadTlsCertificate loads a matching certificate and key")
{
    Pki pki;
    std::string error;
    auto cert = rc::ops::loadTlsCertificate(pki.cert, pki.key, error);
    REQUIRE(cert);
    CHECK(error.empty());
    CHECK(
        rc::ops::describeTlsCertificate(cert.get()).find("CN=roomcast-unit") != std::string::npos);
    CHECK(rc::ops::describeTlsCertificate(cert.get()).find("valid until ") != std::string::npos);
}

TEST_CASE("loadTlsCertificate returns the only reference: the certificate dies with it")
{
    Pki pki;
    std::string error;
    gpointer watched = nullptr;
    {
        auto cert = rc::ops::loadTlsCertificate(pki.cert, pki.key, error);
        REQUIRE(cert);
        watched = cert.get();
        g_object_add_weak_pointer(G_OBJECT(watched), &watched);
        CHECK(G_OBJECT(watched)->ref_count == 1);
    }
    CHECK(watched == nullptr);
}

TEST_CASE("loadTlsCertificate errors name the file at fault")
{
    Pki pki;
    std::string error;
    SECTION("a missing certificate")
    {
        CHECK_FALSE(rc::ops::loadTlsCertificate(pki.dir + "/missing.pem", pki.key, error));
        CHECK(error.find("certificate " + pki.dir + "/missing.pem") != std::string::npos);
    }
    SECTION("a missing key")
    {
        CHECK_FALSE(rc::ops::loadTlsCertificate(pki.cert, pki.dir + "/missing.pem", error));
        CHECK(error.find("key " + pki.dir + "/missing.pem") != std::string::npos);
    }
    SECTION("a key file without a PEM key")
    {
        CHECK_FALSE(rc::ops::loadTlsCertificate(pki.cert, pki.notPem, error));
        CHECK(error == "TLS key " + pki.notPem + " holds no PEM private key");
    }
    SECTION("a certificate file that is not PEM")
    {
        CHECK_FALSE(rc::ops::loadTlsCertificate(pki.notPem, pki.key, error));
        CHECK(error.find("cannot load TLS certificate " + pki.notPem) != std::string::npos);
    }
}
