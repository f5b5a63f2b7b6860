// webrtcbin replies, remote SDP and ICE candidates, shared by every test session; see
// candidate_exchange.h.
#include "testpeer/candidate_exchange.h"

#include "common/base/log.h"
#include "common/protocol/candidate_address.h"
#include "testpeer/codec_plan.h"

namespace rc::testpeer {

WebrtcReply readWebrtcReply(GstPromise *promise, const char *descField)
{
    WebrtcReply out;
    const GstStructure *reply = nullptr;
    if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED)
        out.error = "webrtcbin did not reply";
    else
        reply = gst_promise_get_reply(promise);
    if (reply && gst_structure_has_field(reply, "error")) {
        GError *raw = nullptr;
        gst_structure_get(reply, "error", G_TYPE_ERROR, &raw, nullptr);
        auto e = adopt(raw);
        out.error = e ? e->message : "webrtcbin error";
    } else if (out.error.empty() && descField) {
        GstWebRTCSessionDescription *raw = nullptr;
        if (reply)
            gst_structure_get(reply, descField, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &raw, nullptr);
        if (!raw)
            out.error = "webrtcbin gave no session description";
        else
            out.desc.reset(raw, gst_webrtc_session_description_free);
    }
    return out;
}

GPtr<GstSDPMessage> parseSdp(const std::string &text)
{
    GstSDPMessage *raw = nullptr;
    if (gst_sdp_message_new_from_text(text.c_str(), &raw) != GST_SDP_OK || !raw) {
        if (raw)
            gst_sdp_message_free(raw);
        return nullptr;
    }
    return adopt(raw);
}

CandidateExchange::CandidateExchange(std::string peerId, SendFn send, std::string logPrefix)
    : peerId_(std::move(peerId))
    , send_(std::move(send))
    , logPrefix_(std::move(logPrefix))
{ }

void CandidateExchange::remoteChanging() noexcept
{
    remoteSet_ = false;
    sentEnd_ = false;
}

void CandidateExchange::remoteSet(GstElement *webrtc, const GstSDPMessage *remote)
{
    remoteSet_ = true;
    auto held = std::move(pending_);
    pending_.clear();
    for (auto &c : held)
        fromPeer(webrtc, remote, c);
}

void CandidateExchange::fromPeer(GstElement *webrtc, const GstSDPMessage *remote,
    const std::optional<protocol::Candidate> &candidate)
{
    if (!candidate || candidate->candidate.empty()) {
        RC_LOG_DEBUG("%s%s: end of candidates", logPrefix_.c_str(), peerId_.c_str());
        return;
    }
    // A host name (mDNS or DNS) would be resolved by the ICE agent: traffic nobody configured.
    if (!protocol::candidateHasIpAddress(candidate->candidate)) {
        RC_LOG_DEBUG("%s%s: ignoring a candidate without an IP address", logPrefix_.c_str(),
            peerId_.c_str());
        return;
    }
    if (!remoteSet_) {
        pending_.push_back(*candidate);
        return;
    }
    std::optional<unsigned> mline;
    if (candidate->sdpMLineIndex && *candidate->sdpMLineIndex >= 0)
        mline = static_cast<unsigned>(*candidate->sdpMLineIndex);
    else if (candidate->sdpMid && remote)
        mline = indexOfMid(remote, *candidate->sdpMid);
    if (!mline) {
        RC_LOG_WARN("%scandidate from %s names no m-line", logPrefix_.c_str(), peerId_.c_str());
        return;
    }
    g_signal_emit_by_name(webrtc, "add-ice-candidate", *mline, candidate->candidate.c_str());
}

void CandidateExchange::local(
    unsigned mline, const std::string &candidate, const GstSDPMessage *sdp)
{
    if (candidate.empty()) {
        endOfCandidates(); // webrtcbin's end-of-candidates; the protocol's is null
        return;
    }
    protocol::Candidate c { candidate, sdp ? midOf(sdp, mline) : std::nullopt,
        static_cast<int>(mline) };
    send_(protocol::encodeCandidate(peerId_, c));
}

void CandidateExchange::endOfCandidates()
{
    if (sentEnd_)
        return;
    sentEnd_ = true;
    send_(protocol::encodeCandidate(peerId_, std::nullopt));
}

} // namespace rc::testpeer
