// Rewriting an offer's ICE credentials for a restart; see ice_restart.h.
#include "gateway/participant/ice_restart.h"

#include <sstream>

namespace rc::gateway {
namespace {

constexpr const char *kUfrag = "a=ice-ufrag:";
constexpr const char *kPwd = "a=ice-pwd:";

bool startsWith(const std::string &line, const char *prefix)
{
    return line.rfind(prefix, 0) == 0;
}

} // namespace

std::optional<std::string> withRestartedIceCredentials(
    const std::string &sdp, const std::vector<IceCredentialChange> &changes)
{
    std::istringstream in(sdp);
    std::string out, line;
    while (std::getline(in, line)) {
        // SDP lines end in CRLF; getline leaves the CR.
        const bool cr = !line.empty() && line.back() == '\r';
        if (cr)
            line.pop_back();
        const bool ufrag = startsWith(line, kUfrag);
        if (ufrag || startsWith(line, kPwd)) {
            const std::string value = line.substr(std::string(ufrag ? kUfrag : kPwd).size());
            const IceCredentialChange *found = nullptr;
            for (const auto &change : changes)
                if ((ufrag ? change.before.ufrag : change.before.pwd) == value)
                    found = &change;
            // One stream (max-bundle, always ours): every section uses it, whatever webrtcbin
            // copied from an earlier offer.
            if (!found && changes.size() == 1)
                found = &changes.front();
            if (!found)
                return std::nullopt;
            line = std::string(ufrag ? kUfrag : kPwd)
                + (ufrag ? found->after.ufrag : found->after.pwd);
        }
        out += line;
        out += cr ? "\r\n" : "\n";
    }
    return out;
}

} // namespace rc::gateway
