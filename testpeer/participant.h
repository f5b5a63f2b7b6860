// One visible membership of a room: a SignalingClient and a PeerSession per remote peer.
#pragma once

#include "common/base/weak_self.h"
#include "common/protocol/signaling_client.h"
#include "testpeer/peer_session.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rc::testpeer {

// Owned by the test peer's main (one) or by the load generator (N sharing one
// pipeline and one TrackSource); thread-bound to the GMainContext it is given.
//
// Follows the spec's rules for a visible member: answers every offer
// (hidden ones included) with its tracks; when it joins a room that already
// has visible members and mesh is on, offers to each of them.
class Participant
{
public:
    struct Options
    {
        std::string url;
        std::string room;
        std::string name;
        std::optional<std::string> token;
        bool mesh = true;
        std::vector<std::string> iceAddresses;
        std::string logPrefix;
    };
    struct Callbacks
    {
        std::function<void(const std::string &peerId)> onPeerConnected;
        // The server refused us for good (unauthorized, room-full, bad URL).
        std::function<void(const std::string &code)> onFatal;
    };

    Participant(GMainContext *context, GstBin *pipeline, const TrackSource &tracks, Options options,
        Callbacks callbacks = {});
    ~Participant();
    Participant(const Participant &) = delete;
    Participant &operator=(const Participant &) = delete;

    void start();
    // Tears every session down, sends leave and closes; logs "left".
    void stop();

    // A bus ERROR from element: if it belongs to one of our sessions, that
    // session is torn down (never the whole process) and true is returned.
    bool handleElementError(GstObject *element, const std::string &message);

    const std::string &id() const noexcept { return client_.peerId(); }
    bool joined() const noexcept { return client_.state() == SignalingClient::State::joined; }
    size_t connectedPeers() const noexcept;

private:
    void onWelcome(const protocol::Welcome &welcome);
    void onMessage(const protocol::ServerMessage &message);
    void onDisconnected(const std::string &reason);
    PeerSession &session(const std::string &peerId);
    void removeSession(const std::string &peerId, const std::string &why);
    void removeAllSessions();

    GMainContext *context_; // borrowed
    GstBin *pipeline_; // borrowed
    const TrackSource &tracks_;
    Options options_;
    Callbacks callbacks_;
    SignalingClient client_;
    std::map<std::string, std::unique_ptr<PeerSession>> sessions_;
    std::set<std::string> hiddenPeers_; // sessions a hidden member offered
    bool stopped_ = false;
    WeakSelf<Participant> self_ { this }; // last: cut first
};

} // namespace rc::testpeer
