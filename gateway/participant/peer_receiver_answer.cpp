// The answering side of a PeerReceiver (a WHIP publisher offers); see PeerReceiver::acceptOffer
// in peer_receiver.h.
#include "gateway/participant/peer_receiver.h"

namespace rc::gateway {

void PeerReceiver::acceptOffer(const WhipOffer &offer)
{
    if (!settings_.answerer || finishing_ || connection_->answerReceived()
        || !connection_->created()) {
        log_.warn("ignoring an unexpected offer from %s", peerId_.c_str());
        return;
    }
    // What will arrive: the fitted offer keeps one codec per kind, so the publisher sends that.
    const std::pair<MediaKind, const std::string *> kinds[]
        = { { MediaKind::audio, &offer.audioCodec }, { MediaKind::video, &offer.videoCodec } };
    for (const auto &[kind, codec] : kinds) {
        sending_[kind] = *codec;
        for (auto &output : outputs_)
            output->expectCodec(kind, *codec);
        log_.info("%s sends %s %s", peerId_.c_str(), mediaKindName(kind),
            codec->empty() ? "nothing" : codec->c_str());
    }
    connection_->acceptOffer(offer.sdp);
}

} // namespace rc::gateway
