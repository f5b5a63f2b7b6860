// Fitting a WHIP publisher's offer to what we take, and candidates into our answer; see
// whip_offer.h.
#include "gateway/participant/whip_offer.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace rc::gateway {
namespace {

std::string upper(std::string s)
{
    for (auto &c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

bool startsWith(const std::string &s, const char *prefix)
{
    return s.rfind(prefix, 0) == 0;
}

// Lines without their endings; crlf tells whether the text used "\r\n".
std::vector<std::string> splitLines(const std::string &text, bool &crlf)
{
    std::vector<std::string> lines;
    crlf = text.find("\r\n") != std::string::npos;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (!line.empty())
            lines.push_back(line);
    }
    return lines;
}

std::string joinLines(const std::vector<std::string> &lines, bool crlf)
{
    std::string out;
    for (const auto &l : lines)
        out += l + (crlf ? "\r\n" : "\n");
    return out;
}

// The payload type an "a=<attribute>:<pt> ..." line is about, or -1.
int payloadOf(const std::string &line, const char *attribute)
{
    const std::string prefix = std::string("a=") + attribute + ":";
    if (!startsWith(line, prefix.c_str()))
        return -1;
    size_t i = prefix.size(), digits = 0;
    int pt = 0;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) && digits < 4) {
        pt = pt * 10 + (line[i] - '0');
        ++i;
        ++digits;
    }
    return digits > 0 && digits < 4 && pt <= 127 ? pt : -1;
}

// The value of key in an fmtp parameter list ("a=1;b=2"), "" if absent.
std::string fmtpValue(const std::string &params, const std::string &key)
{
    std::istringstream in(params);
    std::string item;
    while (std::getline(in, item, ';')) {
        item.erase(0, item.find_first_not_of(' '));
        if (startsWith(item, (key + "=").c_str()))
            return item.substr(key.size() + 1);
    }
    return {};
}

struct Section
{
    std::vector<std::string> lines; // lines[0] is the m-line
    std::string media, port, proto, mid, direction;
    bool bundleOnly = false; // port 0 with a=bundle-only: bundled, not rejected (RFC 8843)
    std::vector<int> formats;
    std::map<int, std::string> codecs; // payload type -> upper-case encoding name
    std::map<int, std::string> fmtp;
};

// How well a payload type of codec suits us: higher is better, negative: not at all.
int suitability(const std::string &codec, const std::string &fmtp)
{
    if (codec == "H264") {
        // The depayloader takes single NAL units (mode 0, the default) and FU-A (mode 1, which
        // every browser and OBS use, so preferred); interleaved mode 2 it does not.
        const std::string mode = fmtpValue(fmtp, "packetization-mode");
        if (!mode.empty() && mode != "0" && mode != "1")
            return -1;
        const std::string profile = fmtpValue(fmtp, "profile-level-id");
        return (mode == "1" ? 10 : 0)
            + (startsWith(profile, "42e0")      ? 2
                    : startsWith(profile, "42") ? 1
                                                : 0);
    }
    if (codec == "VP9") {
        const std::string profile = fmtpValue(fmtp, "profile-id");
        return profile.empty() || profile == "0" ? 1 : 0;
    }
    return 0;
}

// The payload type to keep in s, chosen by our codec preferences; -1 for none.
int choosePayload(const Section &s, const std::vector<std::string> &preferences, std::string &codec)
{
    for (const auto &wanted : preferences) {
        int best = -1, bestScore = -1;
        for (int pt : s.formats) {
            auto it = s.codecs.find(pt);
            if (it == s.codecs.end() || it->second != upper(wanted))
                continue;
            auto f = s.fmtp.find(pt);
            const int score = suitability(it->second, f == s.fmtp.end() ? "" : f->second);
            if (score > bestScore) {
                best = pt;
                bestScore = score;
            }
        }
        if (best >= 0) {
            codec = upper(wanted);
            return best;
        }
    }
    return -1;
}

std::string describeOffered(const Section &s)
{
    std::string out;
    for (int pt : s.formats)
        if (auto it = s.codecs.find(pt);
            it != s.codecs.end() && out.find(it->second) == std::string::npos && out.size() < 200)
            out += (out.empty() ? "" : " ") + it->second;
    return s.media + " " + (out.empty() ? "(no codec)" : out);
}

bool parseSection(Section &s, std::string &error)
{
    std::istringstream in(s.lines[0].substr(2));
    in >> s.media >> s.port >> s.proto;
    std::string fmt;
    while (in >> fmt) {
        if (fmt.size() > 3 || !std::all_of(fmt.begin(), fmt.end(), ::isdigit)) {
            if (s.media == "audio" || s.media == "video") {
                error = "bad payload type in an m-line";
                return false;
            }
            continue;
        }
        s.formats.push_back(std::stoi(fmt));
    }
    if (s.proto.empty()) {
        error = "bad m-line";
        return false;
    }
    for (const auto &line : s.lines) {
        if (int pt = payloadOf(line, "rtpmap"); pt >= 0) {
            std::string rest = line.substr(
                line.find(' ') == std::string::npos ? line.size() : line.find(' ') + 1);
            s.codecs[pt] = upper(rest.substr(0, rest.find('/')));
        } else if (int pt = payloadOf(line, "fmtp"); pt >= 0) {
            s.fmtp[pt] = line.find(' ') == std::string::npos ? "" : line.substr(line.find(' ') + 1);
        } else if (line == "a=bundle-only") {
            s.bundleOnly = true;
        } else if (startsWith(line, "a=mid:")) {
            s.mid = line.substr(6);
        } else if (line == "a=sendonly" || line == "a=sendrecv" || line == "a=recvonly"
            || line == "a=inactive") {
            s.direction = line.substr(2);
        }
    }
    return true;
}

// A rejected m-line as RFC 3264 writes one: port 0, inactive, out of the bundle. Its other
// lines stay: webrtcbin wants ICE credentials and a fingerprint in every m-line, rejected or not.
std::vector<std::string> rejected(const Section &s)
{
    std::istringstream in(s.lines[0].substr(2));
    std::string media, port, rest;
    in >> media >> port;
    std::getline(in, rest);
    std::vector<std::string> out { "m=" + media + " 0" + rest };
    for (size_t i = 1; i < s.lines.size(); ++i) {
        const std::string &line = s.lines[i];
        if (line == "a=sendonly" || line == "a=sendrecv" || line == "a=recvonly"
            || line == "a=inactive" || line == "a=bundle-only" || startsWith(line, "a=ssrc"))
            continue;
        out.push_back(line);
    }
    out.push_back("a=inactive");
    return out;
}

std::vector<std::string> kept(const Section &s, int pt)
{
    std::ostringstream m;
    m << "m=" << s.media << " " << s.port << " " << s.proto << " " << pt;
    std::vector<std::string> out { m.str() };
    for (size_t i = 1; i < s.lines.size(); ++i) {
        const std::string &line = s.lines[i];
        int about = payloadOf(line, "rtpmap");
        if (about < 0)
            about = payloadOf(line, "fmtp");
        if (about < 0)
            about = payloadOf(line, "rtcp-fb");
        if ((about >= 0 && about != pt) || startsWith(line, "a=ssrc-group:"))
            continue;
        out.push_back(line);
    }
    return out;
}

} // namespace

std::optional<WhipOffer> takeWhipOffer(const std::string &sdp,
    const std::vector<std::string> &videoCodecs, const std::vector<std::string> &audioCodecs,
    std::string &error)
{
    for (unsigned char c : sdp) {
        if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f) {
            error = "the offer contains control characters";
            return std::nullopt;
        }
    }
    bool crlf = false;
    const std::vector<std::string> lines = splitLines(sdp, crlf);
    if (lines.empty() || lines.front() != "v=0") {
        error = "the body is not an SDP offer (it must begin with v=0)";
        return std::nullopt;
    }
    std::vector<std::string> session;
    std::vector<Section> sections;
    bool ufrag = false, fingerprint = false;
    for (const auto &line : lines) {
        if (line.size() > kWhipMaxLine || line.size() < 2 || line[1] != '='
            || !std::islower(static_cast<unsigned char>(line[0]))) {
            error = "the offer has a line that is not SDP (type=value, at most "
                + std::to_string(kWhipMaxLine) + " bytes)";
            return std::nullopt;
        }
        ufrag = ufrag || startsWith(line, "a=ice-ufrag:");
        fingerprint = fingerprint || startsWith(line, "a=fingerprint:");
        if (startsWith(line, "m=")) {
            if (sections.size() == kWhipMaxSections) {
                error = "the offer has more than " + std::to_string(kWhipMaxSections) + " m-lines";
                return std::nullopt;
            }
            sections.emplace_back();
        }
        (sections.empty() ? session : sections.back().lines).push_back(line);
    }
    if (sections.empty()) {
        error = "the offer has no m-line";
        return std::nullopt;
    }
    if (!ufrag || !fingerprint) {
        error = "the offer has no ICE credentials or no DTLS fingerprint (WebRTC requires both)";
        return std::nullopt;
    }
    std::string sessionDirection = "sendrecv";
    for (const auto &line : session)
        if (line == "a=sendonly" || line == "a=recvonly" || line == "a=inactive")
            sessionDirection = line.substr(2);

    WhipOffer out;
    std::vector<std::string> rejectedMids, offered, body;
    for (auto &s : sections) {
        if (!parseSection(s, error))
            return std::nullopt;
        const std::string dir = s.direction.empty() ? sessionDirection : s.direction;
        const bool av = s.media == "audio" || s.media == "video";
        const bool sends = dir == "sendonly" || dir == "sendrecv";
        std::string codec;
        int pt = -1;
        std::string &taken = s.media == "video" ? out.videoCodec : out.audioCodec;
        // One stream per kind: a second video m-line (simulcast by m-lines) would be a second
        // camera, which a participant of the room does not have either.
        if (av && sends && (s.port != "0" || s.bundleOnly) && taken.empty())
            pt = choosePayload(s, s.media == "video" ? videoCodecs : audioCodecs, codec);
        if (av)
            offered.push_back(describeOffered(s));
        if (pt < 0) {
            if (!s.mid.empty())
                rejectedMids.push_back(s.mid);
            auto r = rejected(s);
            body.insert(body.end(), r.begin(), r.end());
            continue;
        }
        taken = codec;
        auto k = kept(s, pt);
        body.insert(body.end(), k.begin(), k.end());
    }
    if (out.videoCodec.empty() && out.audioCodec.empty()) {
        auto list = [](const std::vector<std::string> &v) {
            std::string s;
            for (const auto &c : v)
                s += (s.empty() ? "" : ", ") + c;
            return s;
        };
        error = "nothing in the offer can be taken: roomcast takes sendonly video in "
            + list(videoCodecs) + " and audio in " + list(audioCodecs) + "; the offer has "
            + (offered.empty() ? std::string("no audio or video") : list(offered));
        return std::nullopt;
    }
    std::vector<std::string> result;
    for (const auto &line : session) {
        if (startsWith(line, "a=group:BUNDLE")) {
            std::istringstream in(line.substr(14));
            std::string mid, group = "a=group:BUNDLE";
            while (in >> mid)
                if (std::find(rejectedMids.begin(), rejectedMids.end(), mid) == rejectedMids.end())
                    group += " " + mid;
            result.push_back(group);
            continue;
        }
        result.push_back(line);
    }
    result.insert(result.end(), body.begin(), body.end());
    out.sdp = joinLines(result, crlf);
    return out;
}

std::string withLocalCandidates(
    const std::string &answer, const std::vector<std::string> &candidates)
{
    bool crlf = false;
    const std::vector<std::string> lines = splitLines(answer, crlf);
    std::vector<std::string> out;
    bool inFirst = false, done = false;
    auto addCandidates = [&] {
        for (const auto &c : candidates)
            out.push_back(startsWith(c, "a=") ? c : "a=" + c);
        out.push_back("a=end-of-candidates");
        done = true;
    };
    for (const auto &line : lines) {
        if (startsWith(line, "m=")) {
            if (inFirst && !done)
                addCandidates();
            std::istringstream in(line.substr(2));
            std::string media, port;
            in >> media >> port;
            inFirst = !done && port != "0";
        }
        if (!startsWith(line, "a=candidate:") && line != "a=end-of-candidates")
            out.push_back(line);
    }
    if (inFirst && !done)
        addCandidates();
    return joinLines(out, crlf);
}

} // namespace rc::gateway
