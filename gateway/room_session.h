// One room: the gateway's hidden membership, a PeerReceiver per visible participant, the session's
// files and manifest.
//
// Owned by the Gateway; thread-bound to the gateway's main context (every
// callback it gets from SignalingClient and PeerReceiver runs there).
//
// Membership across signaling reconnects (peer ids are the room server's and
// are new after it restarts, and may then name someone else):
//  - a receiver is "attached" to the peer id it was offered to; answers,
//    candidates and peer-left for that id go to it;
//  - on every welcome, an attached receiver whose id is listed with the same
//    name stays attached and is not offered to again (our connection
//    dropped, not theirs), unless a second later its media has stopped (that
//    client dropped us during the outage): then it is finalized and offered
//    to anew at once; any other is
//    detached (its presence ends in the manifest) but keeps recording while
//    its media flows, and is finalized when its media stops or ICE fails;
//  - every listed peer without an attached receiver, and every later
//    peer-joined, gets a new receiver and an offer;
//  - an attached receiver that fails (ICE failed, no media) is finalized and,
//    while its peer is still in the room, replaced after a capped backoff.
#pragma once

#include "manifest.h"
#include "peer_receiver.h"
#include "pipeline_template.h"
#include "recording_layout.h"
#include "signaling_client.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

class RoomSession
{
public:
    struct Settings
    {
        std::string room;
        std::string signalingUrl;
        std::optional<std::string> token;
        std::vector<PipelineTemplate> templates; // participant-scope templates, in --pipeline order
        std::string recordingsDir;
        std::chrono::system_clock::time_point sessionStart;
        PeerReceiver::Settings receiver;
    };
    // The room server refused us for good (bad token, room full).
    using FatalCallback = std::function<void(const std::string &code, const std::string &message)>;

    RoomSession(GMainContext *context, Settings settings, FatalCallback onFatal);
    ~RoomSession();
    RoomSession(const RoomSession &) = delete;
    RoomSession &operator=(const RoomSession &) = delete;

    // Creates the session folder and manifest, then joins. False with error
    // when the folder cannot be created.
    bool start(std::string &error);
    // Finalizes every participant, leaves the room, ends the manifest; done
    // is called (on the main context) once every file is closed.
    void stop(std::function<void()> done);
    bool idle() const noexcept { return receivers_.empty(); }
    size_t receiverCount() const noexcept { return receivers_.size(); }
    // A new token for the next (re)join.
    void setToken(std::optional<std::string> token);

private:
    struct Member
    {
        std::optional<std::string> name;
        unsigned failures = 0;
        GPtr<GSource> retryTimer;
    };
    struct Receiver
    {
        std::unique_ptr<PeerReceiver> receiver;
        std::string peerId;
        std::optional<std::string> name;
        bool attached = true;
    };

    void onWelcome(const protocol::Welcome &welcome);
    void recheckAfterRejoin(const std::vector<unsigned> &serials);
    void onMessage(const protocol::ServerMessage &message);
    void onPeerJoined(const protocol::PeerInfo &peer);
    void onPeerLeft(const std::string &id);
    void detach(Receiver &r, const char *why);
    void startReceiver(const std::string &peerId, const std::optional<std::string> &name);
    void onReceiverFailed(unsigned serial, const std::string &reason);
    void onReceiverFinished(unsigned serial);
    void scheduleRetry(const std::string &peerId);
    Receiver *attachedTo(const std::string &peerId);
    void checkStopped();

    GMainContext *context_; // borrowed: the gateway's
    Settings settings_;
    FatalCallback onFatal_;
    RecordingLayout layout_;
    Manifest manifest_;
    std::unique_ptr<SignalingClient> signaling_;
    std::map<std::string, Member>
        members_; // the room's visible members, as last told by the server
    std::map<unsigned, Receiver> receivers_; // by serial: ids can repeat across server restarts
    unsigned nextSerial_ = 1;
    unsigned welcomes_ = 0;
    bool joined_ = false;
    bool stopping_ = false;
    std::function<void()> stopDone_;
    GPtr<GSource> rejoinCheck_;
    std::shared_ptr<RoomSession *> self_;
};

} // namespace rc::gateway
