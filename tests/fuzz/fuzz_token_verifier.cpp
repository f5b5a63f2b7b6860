// libFuzzer target: the room server's JWT check, on raw tokens and on correctly signed ones
// carrying fuzzed claims.
#include "signaling/token_verifier.h"

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

constexpr const char *kSecret = "fuzz-secret-0123456789abcdef0123";

std::string base64url(std::string_view bytes)
{
    gchar *b64 = g_base64_encode(reinterpret_cast<const guchar *>(bytes.data()), bytes.size());
    std::string out(b64);
    g_free(b64);
    for (char &c : out)
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!out.empty() && out.back() == '=')
        out.pop_back();
    return out;
}

// header.claims signed with the verifier's own secret, so the fuzzed bytes
// get past the signature into libjwt's and our claim handling.
std::string signedToken(std::string_view header, std::string_view claims)
{
    std::string signingInput = base64url(header) + "." + base64url(claims);
    GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(kSecret),
        std::string_view(kSecret).size());
    g_hmac_update(hmac, reinterpret_cast<const guchar *>(signingInput.data()), signingInput.size());
    guint8 digest[32];
    gsize len = sizeof digest;
    g_hmac_get_digest(hmac, digest, &len);
    g_hmac_unref(hmac);
    return signingInput + "."
        + base64url(std::string_view(reinterpret_cast<const char *>(digest), len));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const rc::signaling::TokenVerifier verifier(kSecret);
    const uint8_t mode = data[0];
    const std::string_view rest(reinterpret_cast<const char *>(data + 1), size - 1);
    const bool hidden = mode & 1;
    const int64_t now = 1'800'000'000;
    switch ((mode >> 1) % 3) {
    case 0: // the bytes as a token
        (void)verifier.verify(rest, "demo", hidden, now);
        break;
    case 1: // the bytes as the claims of a valid HS256 token
        (void)verifier.verify(
            signedToken(R"({"alg":"HS256","typ":"JWT"})", rest), "demo", hidden, now);
        break;
    default: { // header and claims, split at the first newline
        const size_t nl = rest.find('\n');
        const std::string_view header = rest.substr(0, nl);
        const std::string_view claims
            = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        (void)verifier.verify(signedToken(header, claims), "demo", hidden, now);
    }
    }
    return 0;
}
