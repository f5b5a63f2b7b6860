// Line-level checks of a WHEP viewer's offer; see whep_offer.h.
#include "gateway/whep/whep_offer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <vector>

namespace rc::gateway {
namespace {

struct Section
{
    std::string kind; // "video", "audio", other
    std::string direction = "sendrecv";
    bool port0 = false; // port 0: rejected, unless bundleOnly
    bool bundleOnly = false; // a=bundle-only
    std::vector<int> pts; // in the order of the m-line
    std::map<int, std::string> rtpmap; // pt -> "h264/90000" (lower case)
    std::map<int, std::string> fmtp;
};

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
        [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::optional<int> number(std::string_view s)
{
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > 127)
        return std::nullopt;
    return v;
}

std::vector<std::string_view> words(std::string_view s)
{
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t end = std::min(s.find(' ', pos), s.size());
        if (end > pos)
            out.push_back(s.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

// packetization-mode=1 and a profile-level-id of the baseline family (42xxxx) or none.
bool servableH264(const std::string &fmtp)
{
    const std::string f = lower(fmtp);
    if (f.find("packetization-mode=1") == std::string::npos)
        return false;
    const auto at = f.find("profile-level-id=");
    return at == std::string::npos || f.compare(at + 17, 2, "42") == 0;
}

} // namespace

std::optional<WhepOffer> parseWhepOffer(std::string_view sdp, WhepOfferError &error)
{
    if (sdp.substr(0, 4) != "v=0\r" && sdp.substr(0, 4) != "v=0\n") {
        error.message = "the body is not an SDP offer (it must begin with v=0)";
        return std::nullopt;
    }
    if (sdp.find('\0') != std::string_view::npos) {
        error.message = "the offer contains a NUL byte";
        return std::nullopt;
    }
    std::vector<Section> sections;
    size_t lines = 0, pos = 0;
    while (pos < sdp.size()) {
        size_t end = sdp.find('\n', pos);
        if (end == std::string_view::npos)
            end = sdp.size();
        std::string_view line = sdp.substr(pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            continue;
        if (++lines > kWhepMaxOfferLines) {
            error.message = "the offer has too many lines";
            return std::nullopt;
        }
        if (line.size() < 2 || line[1] != '=') {
            error.message = "the offer has a line that is not 'x=...'";
            return std::nullopt;
        }
        if (line[0] == 'm') {
            if (static_cast<int>(sections.size()) >= kWhepMaxMediaSections) {
                error.message = "the offer has more than " + std::to_string(kWhepMaxMediaSections)
                    + " m-lines";
                return std::nullopt;
            }
            const auto w = words(line.substr(2));
            if (w.size() < 4) {
                error.message = "the offer has a malformed m-line";
                return std::nullopt;
            }
            Section s;
            s.kind = lower(w[0]);
            s.port0 = w[1] == "0";
            for (size_t i = 3; i < w.size() && i < 64; ++i)
                if (auto pt = number(w[i]))
                    s.pts.push_back(*pt);
            sections.push_back(std::move(s));
            continue;
        }
        if (sections.empty() || line[0] != 'a')
            continue;
        Section &s = sections.back();
        const std::string_view attr = line.substr(2);
        if (attr == "bundle-only") {
            s.bundleOnly = true;
        } else if (attr == "sendonly" || attr == "recvonly" || attr == "sendrecv"
            || attr == "inactive") {
            s.direction = std::string(attr);
        } else if (attr.substr(0, 7) == "rtpmap:" || attr.substr(0, 5) == "fmtp:") {
            const size_t colon = attr.find(':');
            const size_t space = attr.find(' ', colon);
            if (space == std::string_view::npos)
                continue;
            auto pt = number(attr.substr(colon + 1, space - colon - 1));
            if (!pt)
                continue;
            const std::string value(attr.substr(space + 1, 256));
            if (attr[0] == 'r' && attr[1] == 't')
                s.rtpmap[*pt] = lower(value);
            else
                s.fmtp[*pt] = value;
        }
    }
    if (sections.empty()) {
        error.message = "the offer has no m-line";
        return std::nullopt;
    }
    WhepOffer offer;
    bool anyMedia = false;
    for (const Section &s : sections) {
        // Port 0 rejects an m-line, except with a=bundle-only (RFC 8843 7.5: it rides on the
        // bundle's transport; webrtcbin offers every m-line after the first that way).
        if ((s.port0 && !s.bundleOnly) || (s.kind != "video" && s.kind != "audio"))
            continue;
        anyMedia = true;
        if (s.direction == "sendonly") {
            error.message = "the offer's " + s.kind
                + " m-line is sendonly: a WHEP viewer receives (recvonly)";
            return std::nullopt;
        }
        for (int pt : s.pts) {
            auto map = s.rtpmap.find(pt);
            if (map == s.rtpmap.end())
                continue;
            if (s.kind == "video" && offer.videoPt < 0 && map->second == "h264/90000") {
                auto f = s.fmtp.find(pt);
                if (f != s.fmtp.end() && servableH264(f->second)) {
                    offer.videoPt = pt;
                    offer.videoFmtp = f->second;
                }
            } else if (s.kind == "audio" && offer.audioPt < 0
                && map->second.rfind("opus/48000", 0) == 0) {
                offer.audioPt = pt;
            }
        }
    }
    if (!anyMedia) {
        error.message = "the offer has no audio or video m-line";
        return std::nullopt;
    }
    if (offer.videoPt < 0 && offer.audioPt < 0) {
        error.message = "the offer has neither H.264 (packetization-mode=1, baseline) nor Opus";
        return std::nullopt;
    }
    return offer;
}

} // namespace rc::gateway
