// takeWhipOffer / withLocalCandidates: which payload types stay, what is rejected, what is
// refused with which message, and hostile input.
#include "gateway/participant/whip_offer.h"

#include <catch2/catch.hpp>

using rc::gateway::takeWhipOffer;
using rc::gateway::withLocalCandidates;

namespace {

const std::vector<std::string> kVideo { "VP8", "H264", "VP9" };
const std::vector<std::string> kAudio { "OPUS" };

// The shape of a Chromium sendonly offer (trimmed): several codecs per m-line, rtx, red.
std::string chromiumOffer(const std::string &videoDirection = "sendonly")
{
    return "v=0\r\n"
           "o=- 1 2 IN IP4 127.0.0.1\r\n"
           "s=-\r\n"
           "t=0 0\r\n"
           "a=group:BUNDLE 0 1 2\r\n"
           "a=msid-semantic: WMS\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0\r\n"
           "c=IN IP4 0.0.0.0\r\n"
           "a=ice-ufrag:abcd\r\n"
           "a=ice-pwd:0123456789012345678901\r\n"
           "a=fingerprint:sha-256 AA:BB\r\n"
           "a=setup:actpass\r\n"
           "a=mid:0\r\n"
           "a=sendonly\r\n"
           "a=rtcp-mux\r\n"
           "a=rtpmap:111 opus/48000/2\r\n"
           "a=rtcp-fb:111 transport-cc\r\n"
           "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
           "a=rtpmap:63 red/48000/2\r\n"
           "a=fmtp:63 111/111\r\n"
           "a=rtpmap:9 G722/8000\r\n"
           "a=rtpmap:0 PCMU/8000\r\n"
           "a=ssrc:1111 cname:x\r\n"
           "m=video 9 UDP/TLS/RTP/SAVPF 45 96 97 102 103 127\r\n"
           "c=IN IP4 0.0.0.0\r\n"
           "a=mid:1\r\n"
           "a="
        + videoDirection
        + "\r\n"
          "a=rtpmap:45 AV1/90000\r\n"
          "a=rtpmap:96 VP8/90000\r\n"
          "a=rtcp-fb:96 nack pli\r\n"
          "a=rtpmap:97 rtx/90000\r\n"
          "a=fmtp:97 apt=96\r\n"
          "a=rtpmap:102 H264/90000\r\n"
          "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
          "a=rtpmap:127 H264/90000\r\n"
          "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
          "a=rtpmap:103 rtx/90000\r\n"
          "a=fmtp:103 apt=102\r\n"
          "a=ssrc-group:FID 2222 3333\r\n"
          "a=ssrc:2222 cname:x\r\n"
          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
          "c=IN IP4 0.0.0.0\r\n"
          "a=mid:2\r\n"
          "a=sctp-port:5000\r\n";
}

bool has(const std::string &text, const std::string &line)
{
    return text.find(line + "\r\n") != std::string::npos;
}

} // namespace

TEST_CASE("a Chromium offer keeps one payload type per kind, in our preference order", "[whip]")
{
    std::string error;
    auto offer = takeWhipOffer(chromiumOffer(), kVideo, kAudio, error);
    REQUIRE(offer);
    CHECK(offer->videoCodec == "VP8");
    CHECK(offer->audioCodec == "OPUS");
    CHECK(has(offer->sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 111"));
    CHECK(has(offer->sdp, "m=video 9 UDP/TLS/RTP/SAVPF 96"));
    CHECK(has(offer->sdp, "a=rtcp-fb:96 nack pli"));
    CHECK_FALSE(has(offer->sdp, "a=rtpmap:97 rtx/90000"));
    CHECK_FALSE(has(offer->sdp, "a=rtpmap:63 red/48000/2"));
    CHECK_FALSE(has(offer->sdp, "a=ssrc-group:FID 2222 3333"));
    CHECK(has(offer->sdp, "a=ssrc:2222 cname:x"));
    // The data channel is rejected and leaves the bundle.
    CHECK(has(offer->sdp, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"));
    CHECK(has(offer->sdp, "a=sctp-port:5000")); // webrtcbin wants a rejected m-line whole
    CHECK(has(offer->sdp, "a=group:BUNDLE 0 1"));
}

TEST_CASE("H264 first: the packetization-mode=1 constrained baseline payload type", "[whip]")
{
    std::string error;
    auto offer = takeWhipOffer(chromiumOffer(), { "H264", "VP8" }, kAudio, error);
    REQUIRE(offer);
    CHECK(offer->videoCodec == "H264");
    CHECK(has(offer->sdp, "m=video 9 UDP/TLS/RTP/SAVPF 127"));
    CHECK_FALSE(has(offer->sdp, "a=rtpmap:102 H264/90000"));
}

TEST_CASE("H264 without packetization-mode is taken; interleaved mode 2 never", "[whip]")
{
    std::string offer = chromiumOffer();
    offer.replace(offer.find("packetization-mode=1"), 20, "packetization-mode=2");
    offer.replace(offer.find("packetization-mode=0;"), 21, "");
    std::string error;
    auto taken = takeWhipOffer(offer, { "H264" }, kAudio, error);
    REQUIRE(taken);
    CHECK(taken->videoCodec == "H264");
    CHECK(has(taken->sdp, "m=video 9 UDP/TLS/RTP/SAVPF 102"));
}

TEST_CASE("a receive-only video m-line is rejected; its audio still goes", "[whip]")
{
    std::string error;
    auto offer = takeWhipOffer(chromiumOffer("recvonly"), kVideo, kAudio, error);
    REQUIRE(offer);
    CHECK(offer->videoCodec.empty());
    CHECK(has(offer->sdp, "m=video 0 UDP/TLS/RTP/SAVPF 45 96 97 102 103 127"));
    CHECK(has(offer->sdp, "a=group:BUNDLE 0"));
}

TEST_CASE("a bundle-only m-line (port 0, as webrtcbin offers with max-bundle) is taken", "[whip]")
{
    std::string offer = chromiumOffer();
    const std::string from = "m=video 9 UDP/TLS/RTP/SAVPF";
    offer.replace(offer.find(from), from.size(), "m=video 0 UDP/TLS/RTP/SAVPF");
    offer.replace(offer.find("a=mid:1\r\n"), 9, "a=mid:1\r\na=bundle-only\r\n");
    std::string error;
    auto taken = takeWhipOffer(offer, kVideo, kAudio, error);
    REQUIRE(taken);
    CHECK(taken->videoCodec == "VP8");
    CHECK(has(taken->sdp, "m=video 0 UDP/TLS/RTP/SAVPF 96"));
    CHECK(has(taken->sdp, "a=bundle-only"));
}

TEST_CASE("an offer with nothing we take is refused with what it had", "[whip]")
{
    std::string error;
    CHECK_FALSE(takeWhipOffer(chromiumOffer(), { "AV1X" }, { "PCMA" }, error));
    CHECK(error.find("nothing in the offer can be taken") != std::string::npos);
    CHECK(error.find("video AV1 VP8 RTX H264") != std::string::npos);
}

TEST_CASE("text that is not an SDP offer is refused, never crashes", "[whip]")
{
    const std::string cases[] = {
        "",
        "hello",
        "v=0\r\n",
        "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", // no ICE credentials, no fingerprint
        "v=0\r\nthis is not sdp\r\n",
        std::string("v=0\r\na=ice-ufrag:x\r\n\0m=audio", 26),
        "v=0\r\na=ice-ufrag:a\r\na=fingerprint:x\r\nm=video 9 RTP/SAVPF 99999999999999\r\n",
        "v=0\r\na=ice-ufrag:a\r\na=fingerprint:x\r\nm=video\r\n",
        "v=0\r\na=ice-ufrag:a\r\na=fingerprint:x\r\nm=video 9 RTP/SAVPF 96\r\na=rtpmap:96\r\n",
        "v=0\r\na=" + std::string(5000, 'x') + "\r\n",
    };
    for (const auto &text : cases) {
        std::string error;
        CHECK_FALSE(takeWhipOffer(text, kVideo, kAudio, error));
        CHECK_FALSE(error.empty());
    }
    std::string many = "v=0\r\na=ice-ufrag:a\r\na=fingerprint:x\r\n";
    for (int i = 0; i < 9; ++i)
        many += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n";
    std::string error;
    CHECK_FALSE(takeWhipOffer(many, kVideo, kAudio, error));
    CHECK(error.find("more than 8 m-lines") != std::string::npos);
}

TEST_CASE("candidates go into the first accepted m-line, once, with end-of-candidates", "[whip]")
{
    const std::string answer = "v=0\r\ns=-\r\nm=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
                               "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"
                               "a=candidate:old 1 udp 1 127.0.0.1 1 typ host\r\n"
                               "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:2\r\n";
    const std::string out = withLocalCandidates(answer,
        { "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host",
            "a=candidate:2 1 TCP 1015021823 127.0.0.1 9 typ host tcptype active" });
    CHECK(out
        == "v=0\r\ns=-\r\nm=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
           "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"
           "a=candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host\r\n"
           "a=candidate:2 1 TCP 1015021823 127.0.0.1 9 typ host tcptype active\r\n"
           "a=end-of-candidates\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:2\r\n");
}
