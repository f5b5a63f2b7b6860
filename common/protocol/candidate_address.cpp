// IP-literal ICE candidates only; see candidate_address.h.
#include "common/protocol/candidate_address.h"

#include <gio/gio.h>

namespace rc::protocol {

std::string candidateAddress(std::string_view candidate)
{
    if (candidate.substr(0, 2) == "a=")
        candidate.remove_prefix(2);
    if (candidate.substr(0, 10) != "candidate:")
        return {};
    // Fields are separated by single spaces (RFC 8839); be lenient with runs of them.
    int field = 0;
    size_t i = 0;
    while (i < candidate.size()) {
        while (i < candidate.size() && candidate[i] == ' ')
            ++i;
        size_t end = i;
        while (end < candidate.size() && candidate[end] != ' ' && candidate[end] != '\r'
            && candidate[end] != '\n')
            ++end;
        if (end == i)
            break;
        if (field == 4)
            return std::string(candidate.substr(i, end - i));
        ++field;
        i = end;
    }
    return {};
}

bool candidateHasIpAddress(std::string_view candidate)
{
    const std::string address = candidateAddress(candidate);
    return !address.empty() && g_hostname_is_ip_address(address.c_str());
}

std::string withoutHostnameCandidates(const std::string &sdp, int *removed)
{
    std::string out;
    out.reserve(sdp.size());
    int count = 0;
    size_t start = 0;
    while (start < sdp.size()) {
        size_t end = sdp.find('\n', start);
        end = end == std::string::npos ? sdp.size() : end + 1;
        std::string_view line(sdp.data() + start, end - start);
        if (line.substr(0, 12) == "a=candidate:" && !candidateHasIpAddress(line))
            ++count;
        else
            out.append(line);
        start = end;
    }
    if (removed)
        *removed = count;
    return out;
}

} // namespace rc::protocol
