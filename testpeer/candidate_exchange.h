// The signalling plumbing every webrtcbin session of the test peer and of the participant bench
// shares: webrtcbin's promise replies read into owned values, remote SDP parsed, and ICE
// candidates both ways (the peer's held until the remote description is set, our
// end-of-candidates sent once per description).
#pragma once

#include "common/gst/gst_ptr.h"
#include "common/protocol/room_protocol.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::testpeer {

// What a webrtcbin promise replied: an error, or (for create-offer / create-answer) the new
// description. Called from the promise's change function, on any thread.
struct WebrtcReply
{
    std::shared_ptr<GstWebRTCSessionDescription> desc; // set when descField was asked for
    std::string error; // "" on success
};
// descField: "offer" or "answer" for the description made; nullptr for set-remote-description.
WebrtcReply readWebrtcReply(GstPromise *promise, const char *descField);

// The SDP in text, or nullptr when it is not SDP.
GPtr<GstSDPMessage> parseSdp(const std::string &text);

// Owned by one session (PeerSession, the bench's ReceiveSession); thread-bound to its
// GMainContext. The session's webrtcbin and its remote/local SDP are passed per call
// (borrowed) since they come and go with negotiation.
class CandidateExchange
{
public:
    using SendFn = std::function<bool(const std::string &json)>;
    // logPrefix: "" for a lone test peer, "sender-3: " in the load generator.
    CandidateExchange(std::string peerId, SendFn send, std::string logPrefix = {});

    // A new remote description is being set: hold the peer's candidates again, and allow one
    // more end-of-candidates of ours.
    void remoteChanging() noexcept;
    // It is set: the held candidates go to webrtc.
    void remoteSet(GstElement *webrtc, const GstSDPMessage *remote);
    bool remoteIsSet() const noexcept { return remoteSet_; }

    // A candidate from the peer (nullopt or empty: its end of candidates). Its m-line is its
    // index or else its mid looked up in remote.
    void fromPeer(GstElement *webrtc, const GstSDPMessage *remote,
        const std::optional<protocol::Candidate> &candidate);
    // webrtcbin's on-ice-candidate ("" is its end of candidates), sent to the peer with the
    // m-line's mid from local when there is one.
    void local(unsigned mline, const std::string &candidate, const GstSDPMessage *local);
    // Gathering is complete: our end of candidates, unless already sent.
    void endOfCandidates();

private:
    std::string peerId_;
    SendFn send_;
    std::string logPrefix_;
    bool remoteSet_ = false;
    bool sentEnd_ = false;
    std::vector<protocol::Candidate> pending_; // until the remote description is set
};

} // namespace rc::testpeer
