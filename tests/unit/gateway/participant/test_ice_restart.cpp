// The SDP half of an ICE restart: our offer carries libnice's new credentials, in every section.
#include "gateway/participant/ice_restart.h"

#include <catch2/catch.hpp>

using rc::IceCredentialChange;
using rc::gateway::withRestartedIceCredentials;

namespace {

const std::string kOffer = "v=0\r\n"
                           "o=- 1 2 IN IP4 0.0.0.0\r\n"
                           "s=-\r\n"
                           "a=group:BUNDLE video0 audio1\r\n"
                           "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                           "a=ice-ufrag:OLDufrag\r\n"
                           "a=ice-pwd:OLDpassword\r\n"
                           "a=mid:video0\r\n"
                           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                           "a=ice-ufrag:OLDufrag\r\n"
                           "a=ice-pwd:OLDpassword\r\n"
                           "a=mid:audio1\r\n";

} // namespace

TEST_CASE("every section gets the restarted stream's credentials", "[ice-restart]")
{
    auto out = withRestartedIceCredentials(
        kOffer, { IceCredentialChange { { "OLDufrag", "OLDpassword" }, { "NEW", "NEWpwd" } } });
    REQUIRE(out);
    CHECK(out->find("OLD") == std::string::npos);
    std::string expected = kOffer;
    for (const auto &[from, to] : { std::pair { "a=ice-ufrag:OLDufrag", "a=ice-ufrag:NEW" },
             std::pair { "a=ice-pwd:OLDpassword", "a=ice-pwd:NEWpwd" } })
        for (auto at = expected.find(from); at != std::string::npos; at = expected.find(from))
            expected.replace(at, std::string(from).size(), to);
    CHECK(*out == expected); // nothing else changed, CRLF kept
}

TEST_CASE("one stream: credentials webrtcbin copied from an older offer are replaced too",
    "[ice-restart]")
{
    auto out = withRestartedIceCredentials(
        kOffer, { IceCredentialChange { { "other", "otherpwd" }, { "NEW", "NEWpwd" } } });
    REQUIRE(out);
    CHECK(out->find("a=ice-ufrag:NEW\r\n") != std::string::npos);
    CHECK(out->find("OLD") == std::string::npos);
}

TEST_CASE("several streams: credentials no stream had refuse the rewrite", "[ice-restart]")
{
    const std::vector<IceCredentialChange> two { { { "a", "apwd" }, { "A", "APWD" } },
        { { "b", "bpwd" }, { "B", "BPWD" } } };
    CHECK_FALSE(withRestartedIceCredentials(kOffer, two));
    const std::string split = "m=video 9 x 96\r\na=ice-ufrag:a\r\na=ice-pwd:apwd\r\n"
                              "m=audio 9 x 111\r\na=ice-ufrag:b\r\na=ice-pwd:bpwd\r\n";
    CHECK(withRestartedIceCredentials(split, two)
        == "m=video 9 x 96\r\na=ice-ufrag:A\r\na=ice-pwd:APWD\r\n"
           "m=audio 9 x 111\r\na=ice-ufrag:B\r\na=ice-pwd:BPWD\r\n");
}
