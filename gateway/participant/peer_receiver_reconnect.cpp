// A participant's new peer connection inside its same pipeline, outputs and files; see
// PeerReceiver::reconnect in peer_receiver.h.
#include "gateway/participant/peer_receiver.h"

#include "common/base/weak_self.h"
#include "gateway/media/stream_linker.h"

namespace rc::gateway {
namespace {

ParticipantHealth::Time monotonicNow() noexcept
{
    return ParticipantHealth::Time(g_get_monotonic_time());
}

} // namespace

bool PeerReceiver::linkToExistingChain(GstPad *pad, MediaKind kind, const std::string &codec)
{
    GstBin *bin = GST_BIN(pipeline_.get());
    std::string error;
    StreamChain *same = nullptr;
    bool kindSeen = false;
    for (auto &chain : chains_) {
        if (chain->kind() != kind || gst_pad_is_linked(chain->sink()))
            continue;
        kindSeen = true;
        if (chain->codec() == codec)
            same = chain.get();
    }
    if (!same && kindSeen) {
        // A muxer cannot take another codec in the same track: a new receiver (new files).
        StreamLinker::linkToFakesink(bin, pad, error);
        peerLog_.warn("the new connection sends %s %s, not the codec of its outputs: a new "
                      "receiver takes over",
            mediaKindName(kind), codec.c_str());
        broken_ = true;
        reportFailure("its " + std::string(mediaKindName(kind)) + " codec changed to " + codec
            + " on the new connection");
        return true;
    }
    if (!same)
        return false; // a kind it did not send before: a chain of its own, as at the start
    // The RTP caps (payload type, SSRC) may differ: the caps event that leads the pad's data
    // tells the depayloader.
    same->rearmKeyframeGate();
    if (gst_pad_link(pad, same->sink()) != GST_PAD_LINK_OK) {
        StreamLinker::linkToFakesink(bin, pad, error);
        broken_ = true;
        reportFailure("cannot link the new connection's pad to the " + codec + " depayloader");
        return true;
    }
    peerLog_.info(
        "receiving %s %s again into the same outputs", mediaKindName(kind), codec.c_str());
    if (kind == MediaKind::video)
        requestKeyframe(*same);
    return true;
}

bool PeerReceiver::reconnect(const std::string &reason)
{
    if (finishing_ || !pipeline_ || !connection_->created())
        return false;
    participantLog_.info("new peer connection into the same outputs (%s)", reason.c_str());
    GstBin *bin = GST_BIN(pipeline_.get());
    GPtr<GstElement> old = ref(connection_->element());
    connection_->close();
    connection_->disconnect();
    // Stopped on its own (the rest of the pipeline plays on), then its pads leave the chains:
    // stopped first, so that no streaming thread pushes into an unlinked pad (not-linked).
    gst_element_set_locked_state(old.get(), TRUE);
    gst_element_set_state(old.get(), GST_STATE_NULL);
    for (auto &chain : chains_)
        if (GPtr<GstPad> peer = adopt(gst_pad_get_peer(chain->sink())))
            gst_pad_unlink(peer.get(), chain->sink());
    gst_bin_remove(bin, old.get());
    // Its posts (pads, states, promise replies) die with it: its self_ is cut.
    rc::releaseLater(context_, std::move(connection_));
    connection_ = std::make_unique<PeerConnection>(
        context_, peerId_, connectionSettings(), connectionCallbacks());
    std::string error;
    if (!connection_->create(bin, error)
        || !gst_element_sync_state_with_parent(connection_->element())) {
        broken_ = true;
        reportFailure("cannot make a new peer connection: "
            + (error.empty() ? std::string("webrtcbin refused to start") : error));
        return false;
    }
    reconnected_ = true;
    failureReported_ = false;
    attached_ = true;
    iceRestarts_ = true;
    forgetLink();
    reportGaps(health_.newConnection(monotonicNow(), lastMedia()));
    connection_->createOffer();
    return true;
}

} // namespace rc::gateway
