// The outputs and composite feeds of one participant: tee branches added and removed while its
// media flows, and finishing one output alone; see peer_receiver.h (pads, health and finalizing
// are in peer_receiver.cpp, negotiation in peer_connection.cpp).
#include "gateway/participant/peer_receiver.h"

#include "common/base/main_context.h"

#include <algorithm>

namespace rc::gateway {

// The output's first buffer is reported through outputStarted while the receiver lives.
void PeerReceiver::watchOutput(ParticipantOutput &output)
{
    ParticipantOutput *raw = &output;
    output.setOnStarted([ref = self_.ref(), raw](std::chrono::system_clock::time_point at) {
        PeerReceiver *self = ref.lock();
        if (self && self->callbacks_.outputStarted)
            self->callbacks_.outputStarted(*raw, at);
    });
}

bool PeerReceiver::attachOutput(StreamChain &chain, ParticipantOutput &output, std::string &error)
{
    // A network sink that waits for its server must not hold up the tee (and
    // with it this participant's recordings): its queue drops instead.
    GstPad *src = chain.addBranch(output.network(), error,
        output.pipelineTemplate().gapVideo == GapVideo::black, output.entryQueues(chain.kind()));
    if (!src)
        return false;
    if (!output.connectFeed(chain.kind(), src, chain.codec(), error)) {
        chain.removeBranch(src);
        return false;
    }
    gst_element_sync_state_with_parent(output.bin());
    if (!chain.linkBranch(src, error)) {
        chain.removeBranch(src);
        return false;
    }
    return true;
}

void PeerReceiver::attachFeed(StreamChain &chain, MixFeed &feed)
{
    std::string error;
    GPtr<GstElement> branch = feed.createDecodeBranch(chain.kind(), chain.codec(), error);
    if (!branch) {
        peerLog_.warn("%s %s stays out of the room composite: %s", mediaKindName(chain.kind()),
            chain.codec().c_str(), error.c_str());
        return;
    }
    GstBin *bin = GST_BIN(pipeline_.get());
    if (!gst_bin_add(bin, branch.get())) {
        peerLog_.warn("cannot add a decode branch");
        return;
    }
    // Decoding may lag; a leaky queue never lets it hold up the recordings.
    GstPad *src = chain.addBranch(true, error);
    GPtr<GstPad> sink = adopt(gst_element_get_static_pad(branch.get(), "sink"));
    if (!src || !sink || gst_pad_link(src, sink.get()) != GST_PAD_LINK_OK) {
        peerLog_.warn("cannot link a decode branch: %s", error.c_str());
        if (src)
            chain.removeBranch(src);
        gst_element_set_state(branch.get(), GST_STATE_NULL);
        gst_bin_remove(bin, branch.get());
        return;
    }
    gst_element_sync_state_with_parent(branch.get());
    if (!chain.linkBranch(src, error)) {
        peerLog_.warn("cannot link a decode branch: %s", error.c_str());
        chain.removeBranch(src);
        gst_element_set_state(branch.get(), GST_STATE_NULL);
        gst_bin_remove(bin, branch.get());
        return;
    }
    decodeBranches_.push_back({ &feed, std::move(branch), ref(src) });
}

void PeerReceiver::removeMixFeed(const MixFeed *feed)
{
    GstBin *bin = pipeline_ ? GST_BIN(pipeline_.get()) : nullptr;
    for (auto it = decodeBranches_.begin(); it != decodeBranches_.end();) {
        if (it->feed != feed) {
            ++it;
            continue;
        }
        if (bin && !finished_) {
            // The tee branch goes first, so the decoder's pads going to NULL
            // can never answer a push from the tee.
            for (auto &chain : chains_)
                chain->removeBranch(it->src.get());
            gst_element_set_state(it->bin.get(), GST_STATE_NULL);
            gst_bin_remove(bin, it->bin.get());
        }
        it = decodeBranches_.erase(it);
    }
    mixFeeds_.erase(std::remove_if(mixFeeds_.begin(), mixFeeds_.end(),
                        [feed](const std::shared_ptr<MixFeed> &f) { return f.get() == feed; }),
        mixFeeds_.end());
}

bool PeerReceiver::addOutput(std::unique_ptr<ParticipantOutput> output, std::string &error)
{
    if (finishing_ || !pipeline_) {
        error = "the participant is finishing";
        return false;
    }
    if (!gst_bin_add(GST_BIN(pipeline_.get()), output->bin())) {
        error = "cannot add the output's bin";
        return false;
    }
    ParticipantOutput *raw = output.get();
    watchOutput(*raw);
    if (connection_->answerReceived())
        for (const auto &[kind, codec] : sending_)
            raw->expectCodec(kind, codec);
    gst_element_sync_state_with_parent(raw->bin());
    outputs_.push_back(std::move(output));
    for (auto &chain : chains_) {
        if (!raw->takes(chain->kind(), chain->codec()))
            continue;
        if (!attachOutput(*chain, *raw, error)) {
            peerLog_.error("%s", error.c_str());
            detachOutput(*raw);
            outputs_.pop_back();
            return false;
        }
        if (chain->kind() == MediaKind::video)
            requestKeyframe(*chain);
    }
    return true;
}

void PeerReceiver::addMixFeed(std::shared_ptr<MixFeed> feed)
{
    if (!feed || finishing_)
        return;
    mixFeeds_.push_back(feed);
    if (!pipeline_)
        return;
    for (auto &chain : chains_) {
        attachFeed(*chain, *feed);
        if (chain->kind() == MediaKind::video)
            requestKeyframe(*chain);
    }
}

void PeerReceiver::detachOutput(ParticipantOutput &output)
{
    // Nothing more goes in (the feed probes drop everything from now on), so
    // the bin can go to NULL while its queues still run.
    output.stopFeeding();
    GstBin *bin = GST_BIN(pipeline_.get());
    gst_element_set_state(output.bin(), GST_STATE_NULL);
    for (MediaKind kind : { MediaKind::video, MediaKind::audio }) {
        GstPad *src = output.feedSource(kind);
        if (!src)
            continue;
        for (auto &chain : chains_)
            chain->removeBranch(src);
    }
    if (GPtr<GstObject> parent = adopt(gst_object_get_parent(GST_OBJECT(output.bin())));
        parent && parent.get() == GST_OBJECT(bin))
        gst_bin_remove(bin, output.bin());
}

ParticipantOutput *PeerReceiver::outputContaining(GstObject *object) const
{
    for (const auto &output : outputs_)
        if (object == GST_OBJECT(output->bin())
            || gst_object_has_as_ancestor(object, GST_OBJECT(output->bin())))
            return output.get();
    return nullptr;
}

void PeerReceiver::finishOutput(const std::string &outputId, std::function<void()> done)
{
    bool any = false;
    for (auto &output : outputs_) {
        if (output->outputId() != outputId)
            continue;
        any = true;
        if (!output->finalizing())
            output->beginFinalize();
    }
    if (!any || finished_) {
        if (done)
            post(context_, std::move(done));
        return;
    }
    outputFinishes_.push_back({ outputId, std::move(done),
        g_get_monotonic_time() + settings_.finalizeTimeout.count() * 1000 });
    if (!outputFinishTimer_)
        outputFinishTimer_ = addTimeout(context_, std::chrono::milliseconds(100), [this] {
            checkOutputFinishes(false);
            if (outputFinishes_.empty()) {
                // Released from a later dispatch, never from inside its own.
                rc::releaseLater(context_, std::move(outputFinishTimer_));
                return false;
            }
            return true;
        });
    checkOutputFinishes(false);
}

void PeerReceiver::checkOutputFinishes(bool force)
{
    const gint64 now = g_get_monotonic_time();
    for (size_t i = 0; i < outputFinishes_.size();) {
        OutputFinish &f = outputFinishes_[i];
        bool ready = true;
        for (auto &output : outputs_)
            if (output->outputId() == f.outputId && output->started() && !output->eosReached())
                ready = false;
        if (!ready && !force && now < f.deadlineUs) {
            ++i;
            continue;
        }
        if (!ready)
            participantLog_.warn("output %s did not finish within %lld ms; closing it as it is",
                f.outputId.c_str(), static_cast<long long>(settings_.finalizeTimeout.count()));
        auto done = std::move(f.done);
        const std::string id = f.outputId;
        outputFinishes_.erase(outputFinishes_.begin() + static_cast<long>(i));
        if (!finished_) {
            for (auto it = outputs_.begin(); it != outputs_.end();) {
                if ((*it)->outputId() != id) {
                    ++it;
                    continue;
                }
                detachOutput(**it);
                if (callbacks_.outputFinished)
                    callbacks_.outputFinished(**it);
                it = outputs_.erase(it);
            }
        }
        if (done)
            post(context_, std::move(done));
    }
}

void PeerReceiver::requestKeyframe(const StreamChain &chain)
{
    chain.requestKeyframe();
    if (callbacks_.keyframeRequested)
        callbacks_.keyframeRequested();
}

} // namespace rc::gateway
