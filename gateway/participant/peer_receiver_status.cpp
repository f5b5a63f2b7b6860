// A participant's connection as the log and the control API tell it: a failure with its reason,
// the state and why, the codecs it sends; see PeerReceiver::connectionState in peer_receiver.h.
#include "gateway/participant/peer_receiver.h"

namespace rc::gateway {

std::vector<std::string> PeerReceiver::negotiatedCodecs() const
{
    std::vector<std::string> out;
    for (MediaKind kind : { MediaKind::video, MediaKind::audio })
        if (auto it = sending_.find(kind); it != sending_.end() && !it->second.empty())
            out.push_back(it->second);
    return out;
}

void PeerReceiver::reportFailure(const std::string &why)
{
    if (failureReported_ || finishing_)
        return;
    failureReported_ = true;
    // A TURN server that gave nothing is most often the reason a connection never came up.
    const std::string &turn = connection_->turnProblem();
    const std::string reason = turn.empty() ? why : why + ": " + turn;
    participantLog_.warn("%s", reason.c_str());
    if (callbacks_.failed)
        callbacks_.failed(reason);
}

std::string PeerReceiver::connectionState() const
{
    if (finishing_)
        return "ending";
    if (!health_.connectedOnce())
        return "connecting";
    switch (health_.gap()) {
    case ParticipantHealth::Gap::Network:
        return "reconnecting";
    case ParticipantHealth::Gap::SenderPaused:
        return "paused";
    case ParticipantHealth::Gap::None:
        break;
    }
    return "connected";
}

std::string PeerReceiver::connectionReason() const
{
    std::string reason;
    if (health_.gap() == ParticipantHealth::Gap::Network)
        reason = "no media and no connection: ICE restart "
            + std::to_string(health_.restartsSinceConnected());
    else if (health_.gap() == ParticipantHealth::Gap::SenderPaused)
        reason = "connected, but the sender sends no media";
    const std::string &turn = connection_->turnProblem();
    if (!turn.empty())
        reason += (reason.empty() ? "" : "; ") + turn;
    return reason;
}

} // namespace rc::gateway
