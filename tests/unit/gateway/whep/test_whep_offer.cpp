// WHEP viewer offers: what Chromium and Firefox send is served; bad and hostile offers get a
// reason (the 400's message).
#include "gateway/whep/whep_offer.h"

#include <catch2/catch.hpp>

using namespace rc::gateway;

namespace {

// Trimmed from a real Chromium recvonly offer (Debian 12's Chromium): VP8 first, H.264 later.
const std::string kChromium = "v=0\r\n"
                              "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
                              "s=-\r\n"
                              "t=0 0\r\n"
                              "a=group:BUNDLE 0 1\r\n"
                              "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107\r\n"
                              "c=IN IP4 0.0.0.0\r\n"
                              "a=mid:0\r\n"
                              "a=recvonly\r\n"
                              "a=rtpmap:96 VP8/90000\r\n"
                              "a=rtpmap:97 rtx/90000\r\n"
                              "a=fmtp:97 apt=96\r\n"
                              "a=rtpmap:102 H264/90000\r\n"
                              "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;"
                              "profile-level-id=42001f\r\n"
                              "a=rtpmap:103 rtx/90000\r\n"
                              "a=rtpmap:106 H264/90000\r\n"
                              "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;"
                              "profile-level-id=42e01f\r\n"
                              "a=rtpmap:107 H264/90000\r\n"
                              "a=fmtp:107 level-asymmetry-allowed=1;packetization-mode=0;"
                              "profile-level-id=42e01f\r\n"
                              "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"
                              "a=mid:1\r\n"
                              "a=recvonly\r\n"
                              "a=rtpmap:111 opus/48000/2\r\n"
                              "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
                              "a=rtpmap:0 PCMU/8000\r\n";

std::string replaced(std::string s, const std::string &from, const std::string &to)
{
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

std::string refused(const std::string &sdp)
{
    WhepOfferError error;
    auto offer = parseWhepOffer(sdp, error);
    CHECK_FALSE(offer);
    return error.message;
}

} // namespace

TEST_CASE("a browser's recvonly offer: its H.264 mode 1 and Opus payload types", "[whep]")
{
    WhepOfferError error;
    auto offer = parseWhepOffer(kChromium, error);
    INFO(error.message);
    REQUIRE(offer);
    CHECK(offer->videoPt == 102); // the first servable one, in m-line order
    CHECK(offer->videoFmtp.find("profile-level-id=42001f") != std::string::npos);
    CHECK(offer->audioPt == 111);

    // Plain \n line ends and sendrecv are accepted too.
    std::string lf = kChromium;
    for (size_t at; (at = lf.find("\r\n")) != std::string::npos;)
        lf.replace(at, 2, "\n");
    offer = parseWhepOffer(replaced(lf, "a=recvonly", "a=sendrecv"), error);
    REQUIRE(offer);
    CHECK(offer->videoPt == 102);

    // Audio only and video only are served.
    const std::string audioOnly = kChromium.substr(0, kChromium.find("m=video"))
        + kChromium.substr(kChromium.find("m=audio"));
    offer = parseWhepOffer(audioOnly, error);
    REQUIRE(offer);
    CHECK(offer->videoPt == -1);
    CHECK(offer->audioPt == 111);
}

TEST_CASE("offers a viewer cannot be served are refused with a reason", "[whep]")
{
    CHECK(refused("").find("v=0") != std::string::npos);
    CHECK(refused("{\"sdp\": 1}").find("v=0") != std::string::npos);
    CHECK(refused("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n").find("no m-line")
        != std::string::npos);
    CHECK(refused(replaced(kChromium, "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=mid:1\r\na=recvonly",
                      "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=mid:1\r\na=sendonly"))
              .find("sendonly")
        != std::string::npos);
    // Only VP8 and H.264 mode 0 / High profile: nothing we encode.
    std::string noH264 = replaced(kChromium, "packetization-mode=1;profile-level-id=42001f",
        "packetization-mode=1;profile-level-id=640c1f");
    noH264 = replaced(noH264, "packetization-mode=1;profile-level-id=42e01f",
        "packetization-mode=0;profile-level-id=42e01f");
    noH264 = replaced(noH264, "opus/48000/2", "G722/8000");
    CHECK(refused(noH264).find("neither") != std::string::npos);
    CHECK(refused("v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n")
              .find("no audio or video")
        != std::string::npos);
    CHECK(refused("v=0\r\nnot sdp at all\r\n").find("not 'x=...'") != std::string::npos);
    CHECK(refused(std::string("v=0\r\n\0m=video", 13)).find("NUL") != std::string::npos);
}

TEST_CASE("hostile offers stay cheap: many m-lines, many lines", "[whep]")
{
    std::string many = "v=0\r\n";
    for (int i = 0; i < 50; ++i)
        many += "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n";
    CHECK(refused(many).find("m-lines") != std::string::npos);

    std::string lines = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n";
    for (size_t i = 0; i < kWhepMaxOfferLines + 10; ++i)
        lines += "a=x\r\n";
    CHECK(refused(lines).find("too many lines") != std::string::npos);

    // Out-of-range payload types and a truncated rtpmap are ignored, not trusted.
    WhepOfferError error;
    auto offer = parseWhepOffer("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 999 -1 abc 102\r\n"
                                "a=rtpmap:999 H264/90000\r\na=rtpmap:102\r\n"
                                "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n",
        error);
    REQUIRE(offer);
    CHECK(offer->videoPt == -1);
    CHECK(offer->audioPt == 111);
}

TEST_CASE("a bundle-only m-line on port 0 is served, a rejected one is not", "[whep]")
{
    // webrtcbin (max-bundle) offers every m-line after the first with port 0 and
    // a=bundle-only (RFC 8843): it rides on the first one's transport.
    WhepOfferError error;
    const std::string bundleOnly = replaced(replaced(kChromium, "m=audio 9 ", "m=audio 0 "),
        "a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n");
    auto offer = parseWhepOffer(bundleOnly, error);
    REQUIRE(offer);
    CHECK(offer->audioPt == 111);
    // Port 0 without bundle-only: the offerer rejected that m-line itself.
    offer = parseWhepOffer(replaced(kChromium, "m=audio 9 ", "m=audio 0 "), error);
    REQUIRE(offer);
    CHECK(offer->audioPt == -1);
    CHECK(offer->videoPt >= 0);
}
