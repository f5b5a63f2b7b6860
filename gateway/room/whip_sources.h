// The WHIP publishers of one room (RFC 9725): each is a PeerReceiver on the answering side, whose
// streams go to the room's participant-scope outputs and composites like a member's, listed in
// the API and the manifest with source "whip".
//
// Owned by its RoomSession; thread-bound to the gateway's main context, and so are every callback
// it gets (from its receivers) and gives (answers, hooks).
//
// A source lives from the publisher's POST to its DELETE, or until its media and connection are
// gone (ICE failed, or neither media nor a connection for kGrace: a publisher that vanished
// without DELETE), which is logged and recorded like a participant leaving.
#pragma once

#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "gateway/participant/peer_receiver.h"
#include "gateway/room/manifest.h"
#include "gateway/room/participant_info.h"
#include "gateway/room/room_outputs.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

class WhipSources
{
public:
    // Serials of WHIP receivers (RoomOutputs keys receivers by serial): above every serial
    // Membership hands out, so the room's members keep their order in the composite.
    static constexpr unsigned kSerialBase = 1u << 30;
    // At most this many publishers in one room.
    static constexpr size_t kMaxSources = 16;
    // Neither media nor an ICE connection this long: the publisher is gone.
    static constexpr std::chrono::milliseconds kGrace { 30000 };

    struct Hooks
    {
        std::function<void(const ParticipantInfo &)> joined; // its answer was sent
        std::function<void(const ParticipantInfo &)> left; // it ended
        std::function<void()> keyframeRequested;
        std::function<void()> finished; // a receiver is gone (the room may be stopping)
    };

    // The outcome of a POST: 201 with the answer and the source's id, or a 4xx/5xx with a
    // message for the publisher.
    struct Answer
    {
        int status = 201;
        std::string sdp; // the answer (201)
        std::string id; // the source (201)
        std::string error; // otherwise
    };
    using AnswerDone = std::function<void(const Answer &)>;

    // outputs and manifest are the room's, borrowed: they outlive this (RoomSession clears this
    // first).
    WhipSources(GMainContext *context, std::string room, PeerReceiver::Settings receiver,
        RoomOutputs &outputs, Manifest &manifest, Hooks hooks);
    ~WhipSources();
    WhipSources(const WhipSources &) = delete;
    WhipSources &operator=(const WhipSources &) = delete;

    // A publisher's offer: fitted to the codecs we take (400 when nothing fits or it is not
    // SDP), received by a new answering PeerReceiver; done gets the answer once ICE gathering
    // completed, or the error. name: a valid display name, or nullopt for "whip-N".
    void publish(const std::string &offer, const std::optional<std::string> &name, AnswerDone done);
    // The publisher's DELETE: the source finishes (files closed). False: no such source.
    bool end(const std::string &id);
    // The room is stopping: every source finishes, none is accepted any more.
    void stop();
    // Drops every receiver at once (the room is being destroyed).
    void clear();
    bool idle() const noexcept { return sources_.empty(); }
    std::vector<ParticipantInfo> participants() const;
    // Every receiver, for RoomOutputs' list of the room's receivers.
    void appendReceivers(std::vector<RoomOutputs::ReceiverRef> &refs) const;

private:
    struct Source
    {
        unsigned serial = 0;
        std::string name;
        std::unique_ptr<PeerReceiver> receiver;
        std::chrono::system_clock::time_point joinedAt;
        AnswerDone done; // until the answer (or the failure) was given
        bool joined = false; // answered: in the manifest, announced
    };

    PeerReceiver::Callbacks callbacks(const std::string &id, unsigned serial);
    void onAnswer(const std::string &id, const std::string &sdp);
    void onFailed(const std::string &id, const std::string &reason);
    void onFinished(const std::string &id);
    ParticipantInfo info(const std::string &id, const Source &source) const;

    GMainContext *context_; // borrowed: the gateway's
    PeerReceiver::Settings settings_;
    RoomOutputs &outputs_;
    Manifest &manifest_;
    Hooks hooks_;
    rc::log::Logger log_; // "gateway: room <id>: whip"
    std::map<std::string, Source> sources_; // by id
    unsigned made_ = 0; // sources made in this room: serials and default names
    bool stopping_ = false;
    rc::WeakSelf<WhipSources> self_ { this }; // last: cut first
};

} // namespace rc::gateway
