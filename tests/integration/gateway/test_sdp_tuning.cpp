// The receive-only offer's pure helpers: codec order, codec-preference caps, bitrate hints, answer
// reading.
#include "gateway/participant/sdp_tuning.h"
#include "gateway/templates/template_codecs.h"

#include <catch2/catch.hpp>

using namespace rc::gateway;

namespace {

PipelineTemplate tpl(std::vector<std::string> video, std::vector<std::string> audio)
{
    PipelineTemplate t;
    t.videoCodecs = std::move(video);
    t.audioCodecs = std::move(audio);
    return t;
}

// The offer's codecs for these active templates, as the gateway computes them.
std::vector<std::string> offered(MediaKind kind, const std::vector<PipelineTemplate> &templates)
{
    return offeredCodecs(kind, templateCodecs(kind, templates), hasRoomScope(templates));
}

size_t count(const std::string &text, const std::string &needle)
{
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++n;
    return n;
}

// The shape of webrtcbin 1.22's offer for our transceivers (CRLF, VP8 without fmtp).
const std::string kOffer = "v=0\r\n"
                           "o=- 1 0 IN IP4 0.0.0.0\r\n"
                           "s=-\r\n"
                           "t=0 0\r\n"
                           "a=group:BUNDLE audio0 video1\r\n"
                           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                           "a=recvonly\r\n"
                           "a=rtpmap:111 OPUS/48000/2\r\n"
                           "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
                           "a=mid:audio0\r\n"
                           "m=video 0 UDP/TLS/RTP/SAVPF 96 102 97\r\n"
                           "a=bundle-only\r\n"
                           "a=recvonly\r\n"
                           "a=rtpmap:96 VP8/90000\r\n"
                           "a=rtcp-fb:96 nack pli\r\n"
                           "a=rtpmap:102 H264/90000\r\n"
                           "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r\n"
                           "a=rtpmap:97 rtx/90000\r\n"
                           "a=fmtp:97 apt=96\r\n"
                           "a=mid:video1\r\n";

} // namespace

TEST_CASE("offered codecs follow the templates' order, deduplicated, known only", "[sdp]")
{
    auto video = offered(MediaKind::video,
        { tpl({ "H264", "VP8" }, { "OPUS" }), tpl({ "VP8", "VP9", "MPEG4" }, {}) });
    // VP8 feeds both templates, so it leads; then the first template's order.
    CHECK(video == std::vector<std::string> { "VP8", "H264", "VP9" });
    CHECK(offered(MediaKind::video, { tpl({ "H264", "VP8" }, {}), tpl({ "VP9", "MPEG4" }, {}) })
        == std::vector<std::string> { "H264", "VP8", "VP9" });
    CHECK(offered(MediaKind::audio, { tpl({ "VP8" }, { "opus" }) })
        == std::vector<std::string> { "OPUS" });
}

TEST_CASE(
    "a room-scope template never reorders, and adds every codec the composite decodes", "[sdp]")
{
    auto room = tpl({ "VP8", "VP9", "H264" }, { "OPUS" });
    room.scope = TemplateScope::room;
    // rtmp-passthrough (H264) stays first even when the room template comes first.
    CHECK(offered(MediaKind::video, { room, tpl({ "H264" }, { "OPUS" }) })
        == std::vector<std::string> { "H264", "VP8", "VP9" });
    CHECK(offered(MediaKind::video, { tpl({ "VP8" }, { "OPUS" }), room })
        == std::vector<std::string> { "VP8", "H264", "VP9" });
    // A template taking a strict subset of another's codecs leads: rtmp-passthrough after
    // record-mkv.
    CHECK(offered(MediaKind::video,
              { tpl({ "VP8", "VP9", "H264", "AV1" }, { "OPUS" }), tpl({ "H264" }, { "OPUS" }) })
        == std::vector<std::string> { "H264", "VP8", "VP9", "AV1" });
    // No common codec: template order.
    CHECK(offered(MediaKind::video, { tpl({ "VP8", "VP9" }, {}), tpl({ "H264" }, {}) })
        == std::vector<std::string> { "VP8", "VP9", "H264" });
    auto videoOnly = tpl({ "VP8" }, {});
    videoOnly.scope = TemplateScope::room;
    CHECK(offered(MediaKind::audio, { tpl({ "H264" }, {}), videoOnly })
        == std::vector<std::string> { "OPUS" });
    CHECK(offered(MediaKind::video, { videoOnly })
        == std::vector<std::string> { "VP8", "H264", "VP9" });
}

TEST_CASE("offered codecs come from plain codec lists and a composite flag", "[sdp]")
{
    CHECK(offeredCodecs(MediaKind::video, { { "vp8" }, { "H264", "VP8" } }, false)
        == std::vector<std::string> { "VP8", "H264" });
    CHECK(offeredCodecs(MediaKind::video, { {}, { "H264" } }, true)
        == std::vector<std::string> { "H264", "VP8", "VP9" });
    CHECK(offeredCodecs(MediaKind::audio, {}, false) == std::vector<std::string> { "OPUS" });
}

TEST_CASE("a codec every active template takes leads the offer", "[sdp]")
{
    // Neither list is a subset of the other; only VP8 feeds both templates.
    CHECK(offeredCodecs(MediaKind::video, { { "VP9", "VP8" }, { "H264", "VP8" } }, false)
        == std::vector<std::string> { "VP8", "VP9", "H264" });
    // record-mp4, record-webm, record-mkv: no codec all three take; the most taken lead.
    CHECK(offeredCodecs(MediaKind::video,
              { { "H264" }, { "VP8", "VP9" }, { "VP8", "VP9", "H264", "AV1" } }, false)
        == std::vector<std::string> { "H264", "VP8", "VP9", "AV1" });
}

TEST_CASE(
    "template codecs list participant-scope templates in order; room scope is a flag", "[sdp]")
{
    auto room = tpl({ "VP9" }, { "OPUS" });
    room.scope = TemplateScope::room;
    const std::vector<PipelineTemplate> templates { tpl({ "H264" }, {}), room,
        tpl({ "VP8", "H264" }, { "OPUS" }) };
    CHECK(templateCodecs(MediaKind::video, templates)
        == std::vector<std::vector<std::string>> { { "H264" }, { "VP8", "H264" } });
    CHECK(templateCodecs(MediaKind::audio, templates)
        == std::vector<std::vector<std::string>> { {}, { "OPUS" } });
    CHECK(hasRoomScope(templates));
    CHECK_FALSE(hasRoomScope({ tpl({ "VP8" }, {}) }));
}

TEST_CASE("a kind no template takes still gets a default list (both m-lines are offered)", "[sdp]")
{
    CHECK_FALSE(offered(MediaKind::video, { tpl({}, { "OPUS" }) }).empty());
    CHECK(offered(MediaKind::audio, { tpl({ "VP8" }, {}) }) == std::vector<std::string> { "OPUS" });
}

TEST_CASE("codec preference caps carry payload types, feedback and fmtp", "[sdp]")
{
    std::string caps = codecPreferencesCaps(MediaKind::video, { "H264", "VP8", "NOPE" });
    CHECK(count(caps, "application/x-rtp") == 2);
    // Preference order is kept: H264 first.
    CHECK(caps.find("encoding-name=(string)H264") < caps.find("encoding-name=(string)VP8"));
    CHECK(caps.find("payload=(int)102") != std::string::npos);
    CHECK(caps.find("profile-level-id=(string)42e01f") != std::string::npos);
    CHECK(caps.find("packetization-mode=(string)1") != std::string::npos);
    CHECK(caps.find("rtcp-fb-nack-pli=(boolean)true") != std::string::npos);
    CHECK(caps.find("rtcp-fb-transport-cc=(boolean)true") != std::string::npos);
    CHECK(caps.find("transport-wide-cc-extensions") != std::string::npos);

    std::string audio = codecPreferencesCaps(MediaKind::audio, { "OPUS", "VP8" });
    CHECK(count(audio, "application/x-rtp") == 1);
    CHECK(audio.find("payload=(int)111") != std::string::npos);
    CHECK(audio.find("clock-rate=(int)48000") != std::string::npos);
    CHECK(payloadTypeFor("vp8") == 96);
    CHECK(payloadTypeFor("G722") == -1);
}

TEST_CASE("bitrate hints go into every video codec's fmtp, nowhere else", "[sdp]")
{
    std::string out = addBitrateHints(kOffer, { 500, 2000, 6000 });
    const std::string params
        = "x-google-min-bitrate=500;x-google-start-bitrate=2000;x-google-max-bitrate=6000";
    // VP8 had no fmtp: one is added right after its rtpmap.
    std::string vp8 = "a=rtpmap:96 VP8/90000\r\na=fmtp:96 ";
    vp8.append(params).append("\r\n");
    CHECK(out.find(vp8) != std::string::npos);
    // H264's fmtp is extended.
    std::string h264 = "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f;";
    h264.append(params).append("\r\n");
    CHECK(out.find(h264) != std::string::npos);
    // Not on rtx, not on audio.
    CHECK(out.find("a=fmtp:97 apt=96\r\n") != std::string::npos);
    CHECK(out.find("a=fmtp:111 minptime=10;useinbandfec=1\r\n") != std::string::npos);
    CHECK(count(out, "x-google-start-bitrate") == 2);
    // Everything else is intact and still CRLF.
    CHECK(count(out, "\r\n") == count(kOffer, "\r\n") + 1);
    CHECK(count(out, "\n") == count(out, "\r\n"));
}

TEST_CASE("bitrate hints are idempotent and keep LF-only text LF-only", "[sdp]")
{
    std::string once = addBitrateHints(kOffer, {});
    CHECK(addBitrateHints(once, {}) == once);
    std::string lf = kOffer;
    for (size_t at = lf.find("\r\n"); at != std::string::npos; at = lf.find("\r\n"))
        lf.erase(at, 1);
    std::string out = addBitrateHints(lf, {});
    CHECK(out.find('\r') == std::string::npos);
    CHECK(count(out, "x-google-max-bitrate=4000") == 2);
}

TEST_CASE("answer sections: kind, mid, sending direction and chosen codec", "[sdp]")
{
    const std::string answer = "v=0\r\n"
                               "o=- 2 0 IN IP4 127.0.0.1\r\n"
                               "s=-\r\n"
                               "t=0 0\r\n"
                               "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                               "a=mid:0\r\n"
                               "a=sendonly\r\n"
                               "a=rtpmap:111 opus/48000/2\r\n"
                               "m=video 9 UDP/TLS/RTP/SAVPF 102 96\r\n"
                               "a=mid:1\r\n"
                               "a=rtpmap:96 VP8/90000\r\n"
                               "a=rtpmap:102 H264/90000\r\n"
                               "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                               "a=mid:2\r\n";
    auto sections = describeSections(answer);
    REQUIRE(sections.size() == 3);
    CHECK(sections[0].kind == MediaKind::audio);
    CHECK(sections[0].sending);
    CHECK(sections[0].codec == "OPUS");
    CHECK(sections[0].mid == "0");
    CHECK(sections[1].kind == MediaKind::video);
    CHECK(sections[1].sending); // no direction attribute: sendrecv
    CHECK(sections[1].codec == "H264"); // the first payload type is the one used
    CHECK_FALSE(sections[2].isMedia);
    CHECK_FALSE(sections[2].sending);
    CHECK(mlineForMid(answer, "1") == 1u);
    CHECK(sendingCodec(answer, MediaKind::video) == "H264");
    CHECK(sendingCodec(answer, MediaKind::audio) == "OPUS");
    CHECK_FALSE(mlineForMid(answer, "x").has_value());
}

TEST_CASE("a rejected or receive-only answer section does not send", "[sdp]")
{
    const std::string answer = "v=0\r\n"
                               "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\n"
                               "a=sendonly\r\n"
                               "a=rtpmap:111 OPUS/48000/2\r\n"
                               "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                               "a=inactive\r\n"
                               "a=rtpmap:96 VP8/90000\r\n";
    auto sections = describeSections(answer);
    REQUIRE(sections.size() == 2);
    CHECK_FALSE(sections[0].sending);
    CHECK_FALSE(sections[1].sending);
    CHECK(sendingCodec(answer, MediaKind::video).empty());
}

TEST_CASE("a bundle-only section with port 0 is bundled, not rejected", "[sdp]")
{
    const std::string answer = "v=0\r\n"
                               "a=group:BUNDLE 0 1\r\n"
                               "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                               "a=sendonly\r\n"
                               "a=rtpmap:111 OPUS/48000/2\r\n"
                               "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
                               "a=bundle-only\r\n"
                               "a=sendonly\r\n"
                               "a=rtpmap:96 VP8/90000\r\n";
    auto sections = describeSections(answer);
    REQUIRE(sections.size() == 2);
    CHECK(sections[1].sending);
    CHECK(sections[1].codec == "VP8");
}
