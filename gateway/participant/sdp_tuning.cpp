// Codec preferences, bitrate hints and answer reading for the receive-only offer; see sdp_tuning.h.
#include "gateway/participant/sdp_tuning.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace rc::gateway {
namespace {

struct CodecInfo
{
    const char *name;
    MediaKind kind;
    int payloadType;
    const char *caps; // everything after media/encoding-name/payload
};

// Payload types follow Chromium's habits where it has any; what matters is
// that they are fixed, so offers are reproducible and easy to read in logs.
constexpr CodecInfo kCodecs[] = {
    { "VP8", MediaKind::video, 96,
        "clock-rate=(int)90000, rtcp-fb-nack=(boolean)true, rtcp-fb-nack-pli=(boolean)true, "
        "rtcp-fb-ccm-fir=(boolean)true" },
    { "VP9", MediaKind::video, 98,
        "clock-rate=(int)90000, profile-id=(string)0, rtcp-fb-nack=(boolean)true, "
        "rtcp-fb-nack-pli=(boolean)true, rtcp-fb-ccm-fir=(boolean)true" },
    { "H264", MediaKind::video, 102,
        "clock-rate=(int)90000, packetization-mode=(string)1, profile-level-id=(string)42e01f, "
        "level-asymmetry-allowed=(string)1, rtcp-fb-nack=(boolean)true, "
        "rtcp-fb-nack-pli=(boolean)true, "
        "rtcp-fb-ccm-fir=(boolean)true" },
    { "AV1", MediaKind::video, 104,
        "clock-rate=(int)90000, rtcp-fb-nack=(boolean)true, rtcp-fb-nack-pli=(boolean)true, "
        "rtcp-fb-ccm-fir=(boolean)true" },
    { "OPUS", MediaKind::audio, 111,
        "clock-rate=(int)48000, encoding-params=(string)2, minptime=(string)10, "
        "useinbandfec=(string)1" },
};

// Transport-wide congestion control: webrtcbin 1.22's RTP session answers the
// header extension with transport-cc feedback, which is what lets Chromium's
// bandwidth estimate grow past its start value (measured: 1.5 -> 6 Mbit/s in
// 3 s on loopback; without it the estimate stays at the start bitrate).
constexpr int kTransportCcExtension = 3;
constexpr const char *kTransportCcUri
    = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

const CodecInfo *findCodec(const std::string &name)
{
    for (const auto &c : kCodecs)
        if (name == c.name)
            return &c;
    return nullptr;
}

std::string upper(std::string s)
{
    for (auto &c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// Splits into lines, remembering whether the text used CRLF.
std::vector<std::string> splitLines(const std::string &text, bool &crlf)
{
    crlf = text.find("\r\n") != std::string::npos;
    std::vector<std::string> lines;
    std::string line;
    std::istringstream in(text);
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

std::string joinLines(const std::vector<std::string> &lines, bool crlf)
{
    std::string out;
    for (const auto &l : lines) {
        out += l;
        out += crlf ? "\r\n" : "\n";
    }
    return out;
}

bool startsWith(const std::string &s, const std::string &prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

// "a=rtpmap:96 VP8/90000" -> {96, "VP8"}
bool parseRtpmap(const std::string &line, int &pt, std::string &codec)
{
    if (!startsWith(line, "a=rtpmap:"))
        return false;
    std::istringstream in(line.substr(9));
    std::string encoding;
    if (!(in >> pt >> encoding))
        return false;
    codec = upper(encoding.substr(0, encoding.find('/')));
    return true;
}

int fmtpPayload(const std::string &line)
{
    if (!startsWith(line, "a=fmtp:"))
        return -1;
    try {
        return std::stoi(line.substr(7));
    } catch (...) {
        return -1;
    }
}

} // namespace

std::vector<std::string> offeredCodecs(
    MediaKind kind, const std::vector<std::vector<std::string>> &templateCodecs, bool composite)
{
    std::vector<std::string> out;
    auto add = [&](const std::string &name) {
        std::string codec = upper(name);
        const CodecInfo *info = findCodec(codec);
        if (info && info->kind == kind && std::find(out.begin(), out.end(), codec) == out.end())
            out.push_back(codec);
    };
    // Participant-scope templates take the codec as sent. A template whose
    // codecs are a strict subset of another's is the demanding one (the other
    // takes its codecs too): its preferences come first. So rtmp-passthrough
    // (H264 only) puts H264 first even after record-mkv (VP8, VP9, H264, AV1),
    // or the browser would pick VP8 and nothing would be restreamed.
    // Otherwise template order decides.
    std::vector<std::vector<std::string>> lists;
    for (const auto &accepted : templateCodecs) {
        std::vector<std::string> list;
        for (const auto &name : accepted)
            list.push_back(upper(name));
        if (!list.empty())
            lists.push_back(std::move(list));
    }
    auto contains = [](const std::vector<std::string> &list, const std::string &c) {
        return std::find(list.begin(), list.end(), c) != list.end();
    };
    auto strictSubset = [&](const std::vector<std::string> &a, const std::vector<std::string> &b) {
        return a.size() < b.size() && std::all_of(a.begin(), a.end(), [&](const std::string &c) {
            return contains(b, c);
        });
    };
    std::vector<const std::vector<std::string> *> demanding, others;
    for (const auto &list : lists) {
        const bool sub = std::any_of(lists.begin(), lists.end(),
            [&](const std::vector<std::string> &other) { return strictSubset(list, other); });
        (sub ? demanding : others).push_back(&list);
    }
    for (const auto *group : { &demanding, &others })
        for (const auto *list : *group)
            for (const auto &name : *list)
                add(name);
    // A codec more of the templates take goes first (stable: ties keep the order above), so
    // that one codec, where there is one, feeds every active template.
    auto takers = [&](const std::string &c) {
        return std::count_if(lists.begin(), lists.end(),
            [&](const std::vector<std::string> &list) { return contains(list, c); });
    };
    std::stable_sort(out.begin(), out.end(),
        [&](const std::string &a, const std::string &b) { return takers(a) > takers(b); });
    // A room composite decodes whatever arrives, so it never reorders the
    // list; it only adds every codec its decoders take (MixFeed::decoderFor).
    if (composite) {
        const std::vector<std::string> decodable = kind == MediaKind::video
            ? std::vector<std::string> { "VP8", "H264", "VP9" }
            : std::vector<std::string> { "OPUS" };
        for (const auto &name : decodable)
            add(name);
    }
    if (out.empty())
        out = kind == MediaKind::video ? std::vector<std::string> { "VP8", "H264" }
                                       : std::vector<std::string> { "OPUS" };
    return out;
}

int payloadTypeFor(const std::string &encodingName) noexcept
{
    const CodecInfo *info = findCodec(upper(encodingName));
    return info ? info->payloadType : -1;
}

std::string codecPreferencesCaps(MediaKind kind, const std::vector<std::string> &codecs)
{
    std::string caps;
    for (const auto &name : codecs) {
        const CodecInfo *info = findCodec(upper(name));
        if (!info || info->kind != kind)
            continue;
        if (!caps.empty())
            caps += "; ";
        caps += std::string("application/x-rtp, media=(string)") + mediaKindName(kind)
            + ", encoding-name=(string)" + info->name + ", payload=(int)"
            + std::to_string(info->payloadType) + ", " + info->caps;
        if (kind == MediaKind::video)
            caps += std::string(", extmap-") + std::to_string(kTransportCcExtension) + "=(string)"
                + kTransportCcUri + ", rtcp-fb-transport-cc=(boolean)true";
    }
    return caps;
}

std::string addBitrateHints(const std::string &sdp, const BitrateHints &hints)
{
    bool crlf = false;
    std::vector<std::string> lines = splitLines(sdp, crlf);
    const std::string params = "x-google-min-bitrate=" + std::to_string(hints.minKbps)
        + ";x-google-start-bitrate=" + std::to_string(hints.startKbps)
        + ";x-google-max-bitrate=" + std::to_string(hints.maxKbps);

    std::vector<std::string> out;
    out.reserve(lines.size() + 8);
    size_t sectionStart = 0;
    bool inVideo = false;

    // Processes the finished section [sectionStart, out.size()).
    auto finishSection = [&]() {
        if (!inVideo)
            return;
        std::map<int, size_t> rtpmapLine; // video codec pt -> index in out
        std::map<int, size_t> fmtpLine;
        for (size_t i = sectionStart; i < out.size(); ++i) {
            int pt = 0;
            std::string codec;
            if (parseRtpmap(out[i], pt, codec)) {
                if (codec == "VP8" || codec == "VP9" || codec == "H264" || codec == "AV1")
                    rtpmapLine[pt] = i;
            } else if (int fpt = fmtpPayload(out[i]); fpt >= 0) {
                fmtpLine[fpt] = i;
            }
        }
        std::vector<std::pair<size_t, std::string>> inserts;
        for (const auto &[pt, index] : rtpmapLine) {
            auto f = fmtpLine.find(pt);
            if (f != fmtpLine.end()) {
                std::string &line = out[f->second];
                if (line.find("x-google-") == std::string::npos)
                    line += (line.find(' ') == std::string::npos ? " " : ";") + params;
            } else {
                inserts.emplace_back(index + 1, "a=fmtp:" + std::to_string(pt) + " " + params);
            }
        }
        // Insert from the back so earlier indexes stay valid.
        std::sort(inserts.begin(), inserts.end(),
            [](const auto &a, const auto &b) { return a.first > b.first; });
        for (const auto &[at, line] : inserts)
            out.insert(out.begin() + static_cast<long>(at), line);
    };

    for (const auto &line : lines) {
        if (startsWith(line, "m=")) {
            finishSection();
            sectionStart = out.size();
            inVideo = startsWith(line, "m=video ");
        }
        out.push_back(line);
    }
    finishSection();
    return joinLines(out, crlf);
}

std::vector<MediaSection> describeSections(const std::string &sdp)
{
    bool crlf = false;
    std::vector<MediaSection> sections;
    std::string sessionDirection = "sendrecv";
    std::string direction;
    bool port0 = false;
    bool bundleOnly = false;
    std::vector<int> formats;
    std::map<int, std::string> codecs;

    auto finish = [&]() {
        if (sections.empty())
            return;
        MediaSection &s = sections.back();
        const std::string &dir = direction.empty() ? sessionDirection : direction;
        // Port 0 with bundle-only is a bundled section (RFC 8843), not a rejected one.
        s.sending = s.isMedia && (!port0 || bundleOnly) && (dir == "sendrecv" || dir == "sendonly");
        if (!formats.empty()) {
            auto it = codecs.find(formats.front());
            if (it != codecs.end())
                s.codec = it->second;
        }
    };

    for (const auto &line : splitLines(sdp, crlf)) {
        if (startsWith(line, "m=")) {
            finish();
            MediaSection s;
            s.index = static_cast<unsigned>(sections.size());
            std::istringstream in(line.substr(2));
            std::string media, port, proto;
            in >> media >> port >> proto;
            s.isMedia = media == "audio" || media == "video";
            s.kind = media == "video" ? MediaKind::video : MediaKind::audio;
            port0 = port == "0";
            bundleOnly = false;
            formats.clear();
            codecs.clear();
            direction.clear();
            std::string fmt;
            while (in >> fmt) {
                try {
                    formats.push_back(std::stoi(fmt));
                } catch (...) { }
            }
            sections.push_back(s);
            continue;
        }
        const bool isDirection = line == "a=sendrecv" || line == "a=sendonly"
            || line == "a=recvonly" || line == "a=inactive";
        if (sections.empty()) {
            if (isDirection)
                sessionDirection = line.substr(2);
            continue;
        }
        if (isDirection) {
            direction = line.substr(2);
        } else if (line == "a=bundle-only") {
            bundleOnly = true;
        } else if (startsWith(line, "a=mid:")) {
            sections.back().mid = line.substr(6);
        } else {
            int pt = 0;
            std::string codec;
            if (parseRtpmap(line, pt, codec))
                codecs[pt] = codec;
        }
    }
    finish();
    return sections;
}

std::string sendingCodec(const std::string &sdp, MediaKind kind)
{
    for (const auto &s : describeSections(sdp))
        if (s.isMedia && s.kind == kind && s.sending)
            return s.codec;
    return {};
}

std::optional<unsigned> mlineForMid(const std::string &sdp, const std::string &mid)
{
    for (const auto &s : describeSections(sdp))
        if (s.mid == mid)
            return s.index;
    return std::nullopt;
}

} // namespace rc::gateway
