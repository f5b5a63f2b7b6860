// Per-message protocol rules; see signal_dispatcher.h and shared/specs/room-protocol.md.
#include "signaling/signal_dispatcher.h"

#include "common/base/json.h"
#include "common/base/log.h"
#include "signaling/log_text.h"

namespace rc::signaling {
namespace {
std::string describe(JsonObject *object)
{
    auto node = adopt(json_node_new(JSON_NODE_OBJECT));
    json_node_set_object(node.get(), object);
    return json::serialize(node.get());
}
} // namespace

using protocol::ErrorCode;

SignalDispatcher::SignalDispatcher(const DispatchRules &rules, Clock clock)
    : rules_(rules)
    , clock_(std::move(clock))
    , registry_(rules.maxPeersPerRoom)
{
    if (rules_.secret)
        verifier_.emplace(*rules_.secret);
}

SignalDispatcher::Session *SignalDispatcher::session(PeerLink *link)
{
    auto it = sessions_.find(link);
    return it == sessions_.end() ? nullptr : &it->second;
}

void SignalDispatcher::opened(PeerLink *link)
{
    sessions_.emplace(
        link, Session { RateLimiter(rules_.rateLimit, clock_.monotonicUs()), {}, false });
}

void SignalDispatcher::logError(PeerLink *link, const char *code, const std::string &message)
{
    const Session *s = session(link);
    const Member *m = s && s->peerId ? registry_.member(*s->peerId) : nullptr;
    RC_LOG_INFO("error room=%s peer=%s conn=%s code=%s: %s", m ? m->room.c_str() : "-",
        m ? m->id.c_str() : "-", link->label().c_str(), code, printable(message).c_str());
}

void SignalDispatcher::sendError(
    PeerLink *link, const Session &, ErrorCode code, const std::string &message)
{
    logError(link, protocol::errorCodeName(code), message);
    link->send(protocol::encodeError(code, message));
}

void SignalDispatcher::fail(PeerLink *link, Session &s, ErrorCode code, const std::string &message,
    unsigned short closeCode)
{
    sendError(link, s, code, message);
    leaveRoom(s, protocol::errorCodeName(code));
    s.closing = true;
    link->close(closeCode, protocol::errorCodeName(code));
}

void SignalDispatcher::joinDeadline(PeerLink *link, const std::string &detail)
{
    Session *s = session(link);
    if (!s || s->closing || s->peerId)
        return;
    fail(link, *s, ErrorCode::joinTimeout, detail, protocol::kCloseJoinTimeout);
}

void SignalDispatcher::tooSlow(PeerLink *link, const std::string &detail)
{
    Session *s = session(link);
    if (!s || s->closing)
        return;
    fail(link, *s, ErrorCode::tooSlow, detail, protocol::kCloseTryAgainLater);
}

void SignalDispatcher::leaveRoom(Session &s, const char *reason)
{
    if (!s.peerId)
        return;
    if (const Member *m = registry_.member(*s.peerId))
        RC_LOG_INFO("leave room=%s peer=%s hidden=%d reason=%s", m->room.c_str(), m->id.c_str(),
            m->hidden ? 1 : 0, reason);
    registry_.leave(*s.peerId);
    s.peerId.reset();
}

bool SignalDispatcher::admit(PeerLink *link, Session &s, size_t size)
{
    // Size first: an oversize message ends the connection whatever else it is.
    if (size > protocol::kMaxMessageBytes) {
        fail(link, s, ErrorCode::tooLarge,
            "message of " + std::to_string(size) + " bytes exceeds the limit of "
                + std::to_string(protocol::kMaxMessageBytes),
            protocol::kCloseTooLarge);
        return false;
    }
    const int64_t now = clock_.monotonicUs();
    if (!s.limiter.tryAcquire(now)) {
        // One notice per interval at most, so a flood cannot make us queue an
        // unbounded number of answers to a client that does not read them.
        if (s.limiter.shouldNotify(now)) {
            const uint64_t dropped = s.limiter.takeDropped();
            sendError(link, s, ErrorCode::rateLimited,
                "rate limit exceeded: " + std::to_string(dropped)
                    + " message(s) dropped since the last notice");
        }
        return false;
    }
    return true;
}

void SignalDispatcher::text(PeerLink *link, std::string_view message)
{
    Session *s = session(link);
    if (!s || s->closing || !admit(link, *s, message.size()))
        return;

    auto parsed = protocol::parseEnvelope(message);
    if (auto *err = std::get_if<protocol::Error>(&parsed)) {
        // Not an object or an unknown type: bad-message, joined or not.
        sendError(link, *s, err->code, err->message);
        return;
    }
    auto &envelope = std::get<protocol::Envelope>(parsed);
    if (envelope.type == protocol::Type::join) {
        handleJoin(link, *s, envelope.object());
        return;
    }
    if (!s->peerId) {
        sendError(link, *s, ErrorCode::notJoined,
            std::string("'") + protocol::typeName(envelope.type) + "' before 'join'");
        return;
    }
    if (envelope.type == protocol::Type::leave) {
        leaveRoom(*s, "leave");
        s->closing = true;
        link->close(protocol::kCloseNormal, "leave");
        return;
    }
    handleSignal(link, *s, envelope.type, envelope.object());
}

void SignalDispatcher::binary(PeerLink *link, size_t size)
{
    Session *s = session(link);
    if (!s || s->closing || !admit(link, *s, size))
        return;
    sendError(link, *s, ErrorCode::badMessage, "binary frames are not part of the protocol");
}

void SignalDispatcher::handleJoin(PeerLink *link, Session &s, JsonObject *object)
{
    // A second join is refused before it is even validated ("valid or not").
    if (s.peerId) {
        sendError(link, s, ErrorCode::alreadyJoined, "this connection has already joined");
        return;
    }
    auto validated = protocol::validateJoin(object);
    if (auto *err = std::get_if<protocol::Error>(&validated)) {
        sendError(link, s, err->code, err->message);
        return;
    }
    auto &join = std::get<protocol::Join>(validated);
    if (verifier_) {
        if (!join.token) {
            fail(link, s, ErrorCode::unauthorized, "a token is required to join",
                protocol::kCloseUnauthorized);
            return;
        }
        auto verdict = verifier_->verify(*join.token, join.room, join.hidden, clock_.realSeconds());
        if (!verdict.ok) {
            fail(link, s, ErrorCode::unauthorized, verdict.reason, protocol::kCloseUnauthorized);
            return;
        }
    }
    auto joined = registry_.join(link, join);
    if (std::holds_alternative<ErrorCode>(joined)) {
        fail(link, s, ErrorCode::roomFull, "room '" + join.room + "' is full",
            protocol::kCloseRoomFull);
        return;
    }
    const Member *m = std::get<const Member *>(joined);
    s.peerId = m->id;
    RC_LOG_INFO("join room=%s peer=%s hidden=%d conn=%s name=\"%s\"", m->room.c_str(),
        m->id.c_str(), m->hidden ? 1 : 0, link->label().c_str(),
        m->name ? printable(*m->name).c_str() : "");
}

void SignalDispatcher::handleSignal(
    PeerLink *link, Session &s, protocol::Type type, JsonObject *object)
{
    auto validated = protocol::validateSignal(type, object);
    if (auto *err = std::get_if<protocol::Error>(&validated)) {
        sendError(link, s, err->code, err->message);
        return;
    }
    auto &signal = std::get<protocol::Signal>(validated);
    if (!registry_.route(*s.peerId, signal, object)) {
        sendError(link, s, ErrorCode::unknownPeer,
            "no member '" + signal.to.value_or("") + "' in this room");
        return;
    }
    if (log::enabled(log::Level::debug)) {
        // SDP bodies only at debug level: they carry addresses and fingerprints.
        RC_LOG_DEBUG("forward %s from=%s to=%s: %s", protocol::typeName(type), s.peerId->c_str(),
            signal.to ? printable(*signal.to).c_str() : "*",
            printable(describe(object), 4000).c_str());
    }
}

void SignalDispatcher::drop(PeerLink *link, const char *reason)
{
    Session *s = session(link);
    if (!s)
        return;
    leaveRoom(*s, reason);
    s->closing = true;
}

void SignalDispatcher::closed(PeerLink *link, const char *reason)
{
    Session *s = session(link);
    if (!s)
        return;
    leaveRoom(*s, reason);
    sessions_.erase(link);
}

} // namespace rc::signaling
