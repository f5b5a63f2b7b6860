// ICE address restriction and ICE restart through webrtcbin's libnice agent; see
// ice_restriction.h.
#include "common/gst/ice_restriction.h"

#include "common/gst/gst_ptr.h"

#include <nice/agent.h>

namespace rc {

RC_GOBJECT_DELETER(NiceAgent)

namespace {

// webrtcbin's NiceAgent, or null with error.
GPtr<NiceAgent> niceAgent(GstElement *webrtcbin, std::string &error)
{
    GstObject *rawIce = nullptr;
    g_object_get(webrtcbin, "ice-agent", &rawIce, nullptr); // transfer full
    auto ice = adopt(rawIce);
    if (!ice || !g_object_class_find_property(G_OBJECT_GET_CLASS(ice.get()), "agent")) {
        error = "webrtcbin's ICE implementation is not libnice";
        return nullptr;
    }
    NiceAgent *rawAgent = nullptr;
    g_object_get(ice.get(), "agent", &rawAgent, nullptr); // transfer full
    auto agent = adopt(rawAgent);
    if (!agent)
        error = "webrtcbin has no NiceAgent";
    return agent;
}

// libnice numbers its streams from 1 and webrtcbin keeps its map of them private; with
// max-bundle there is one, and never more than one per m-line.
constexpr guint kMaxStreamId = 16;

std::optional<IceCredentials> localCredentials(NiceAgent *agent, guint stream)
{
    gchar *ufrag = nullptr, *pwd = nullptr;
    if (!nice_agent_get_local_credentials(agent, stream, &ufrag, &pwd))
        return std::nullopt;
    IceCredentials out { ufrag ? ufrag : "", pwd ? pwd : "" };
    g_free(ufrag);
    g_free(pwd);
    return out;
}

} // namespace

bool restrictIceAddresses(
    GstElement *webrtcbin, const std::vector<std::string> &addresses, std::string &error)
{
    auto agent = niceAgent(webrtcbin, error);
    if (!agent)
        return false;
    // libnice maps ports on the host's router by default (gupnp-igd is installed with it),
    // sending SSDP to 239.255.255.250: a server must never open ports or send anything its
    // operator did not configure.
    g_object_set(agent.get(), "upnp", FALSE, nullptr);
    for (const auto &address : addresses) {
        NiceAddress nice;
        nice_address_init(&nice);
        if (!nice_address_set_from_string(&nice, address.c_str())) {
            error = "not an IP address: '" + address + "'";
            return false;
        }
        if (!nice_agent_add_local_address(agent.get(), &nice)) {
            error = "libnice refused local address '" + address + "'";
            return false;
        }
    }
    return true;
}

} // namespace rc

namespace rc {

std::optional<std::vector<IceCredentialChange>> restartIceStreams(
    GstElement *webrtcbin, std::string &error)
{
    auto agent = niceAgent(webrtcbin, error);
    if (!agent)
        return std::nullopt;
    std::vector<IceCredentialChange> changes;
    for (guint stream = 1; stream <= kMaxStreamId; ++stream) {
        auto before = localCredentials(agent.get(), stream);
        if (!before)
            continue;
        // webrtcbin 1.22 makes a stream per m-line even with max-bundle ("FIXME: bundle");
        // the ones bundling left unused never gathered, and libnice refuses to restart them.
        if (!nice_agent_restart_stream(agent.get(), stream))
            continue;
        auto after = localCredentials(agent.get(), stream);
        if (!after || after->ufrag == before->ufrag) {
            error = "libnice kept the old credentials of ICE stream " + std::to_string(stream);
            return std::nullopt;
        }
        changes.push_back({ std::move(*before), std::move(*after) });
    }
    if (changes.empty()) {
        error = "webrtcbin's NiceAgent has no stream to restart";
        return std::nullopt;
    }
    return changes;
}

std::vector<std::string> localIceCandidates(GstElement *webrtcbin)
{
    std::vector<std::string> out;
    std::string error;
    auto agent = niceAgent(webrtcbin, error);
    if (!agent)
        return out;
    for (guint stream = 1; stream <= kMaxStreamId; ++stream) {
        GSList *list = nice_agent_get_local_candidates(agent.get(), stream, 1);
        for (GSList *i = list; i; i = i->next) {
            auto *candidate = static_cast<NiceCandidate *>(i->data);
            gchar *line = nice_agent_generate_local_candidate_sdp(agent.get(), candidate);
            if (line) {
                std::string text(line);
                // "a=candidate:..." as in SDP; trickle ICE carries it without the "a=".
                out.push_back(text.rfind("a=", 0) == 0 ? text.substr(2) : text);
            }
            g_free(line);
            nice_candidate_free(candidate);
        }
        g_slist_free(list);
    }
    return out;
}

} // namespace rc
