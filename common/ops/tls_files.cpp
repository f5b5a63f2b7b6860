// TLS identity from PEM files; see tls_files.h.
#include "common/ops/tls_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace rc::ops {
namespace {

// A clearer message than GnuTLS's for the usual mistakes: a wrong path, no permission.
bool readable(const std::string &path, const char *what, std::string &error)
{
    std::ifstream f(path);
    if (f)
        return true;
    error = std::string("cannot read TLS ") + what + " " + path + ": " + std::strerror(errno);
    return false;
}

} // namespace

GPtr<GTlsCertificate> loadTlsCertificate(
    const std::string &certificateFile, const std::string &keyFile, std::string &error)
{
    if (!readable(certificateFile, "certificate", error) || !readable(keyFile, "key", error))
        return nullptr;
    GError *raw = nullptr;
    // The key alone first: a bad key file is then named as such, not as the certificate.
    {
        gchar *rawPem = nullptr;
        if (!g_file_get_contents(keyFile.c_str(), &rawPem, nullptr, &raw)) {
            auto e = adopt(raw);
            error = "cannot read TLS key " + keyFile + ": " + (e ? e->message : "unknown error");
            return nullptr;
        }
        const std::string pem = takeString(rawPem);
        if (pem.find("PRIVATE KEY-----") == std::string::npos) {
            error = "TLS key " + keyFile + " holds no PEM private key";
            return nullptr;
        }
    }
    auto cert
        = adopt(g_tls_certificate_new_from_files(certificateFile.c_str(), keyFile.c_str(), &raw));
    if (!cert) {
        auto e = adopt(raw);
        error = "cannot load TLS certificate " + certificateFile + " with key " + keyFile + ": "
            + (e ? e->message : "unknown error");
        return nullptr;
    }
    return cert;
}

std::string describeTlsCertificate(GTlsCertificate *certificate)
{
    if (!certificate)
        return {};
    gchar *subject = nullptr; // adopted below
    GDateTime *notAfter = nullptr; // adopted below
    g_object_get(certificate, "subject-name", &subject, "not-valid-after", &notAfter, nullptr);
    std::string text = "subject " + takeString(subject);
    if (notAfter) {
        text += ", valid until " + takeString(g_date_time_format_iso8601(notAfter));
        g_date_time_unref(notAfter);
    }
    return text;
}

} // namespace rc::ops
