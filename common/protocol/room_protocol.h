// The room protocol's messages (shared/specs/room-protocol.md): validation of
// what clients send, encoding of what the server sends, and the client side's
// encoders and decoder. Pure functions, safe on any thread.
#pragma once

#include "common/base/gptr.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rc::protocol {

inline constexpr size_t kMaxMessageBytes = 65536; // counted after decompression
inline constexpr int kMaxJsonDepth = 32;
inline constexpr size_t kMaxNameChars = 64;
inline constexpr const char *kPath = "/ws";

// WebSocket close statuses the spec names.
inline constexpr unsigned short kCloseNormal = 1000;
inline constexpr unsigned short kCloseGoingAway = 1001;
inline constexpr unsigned short kCloseTooLarge = 1009;
inline constexpr unsigned short kCloseUnauthorized = 4401;
inline constexpr unsigned short kCloseRoomFull = 4409;
// "Resource limits": no valid join in time; a reader that does not keep up.
inline constexpr unsigned short kCloseJoinTimeout = 4408;
inline constexpr unsigned short kCloseTryAgainLater = 1013;

enum class ErrorCode {
    badMessage,
    notJoined,
    alreadyJoined,
    unknownPeer,
    unauthorized,
    roomFull,
    tooLarge,
    rateLimited,
    joinTimeout,
    tooSlow,
};
const char *errorCodeName(ErrorCode code) noexcept;
std::optional<ErrorCode> errorCodeFromName(std::string_view name) noexcept;

// Names: room and peer id are 1-64 of [A-Za-z0-9_-]; a display name is 1-64
// Unicode characters (valid UTF-8) with no control characters.
bool isValidRoom(std::string_view room) noexcept;
bool isValidPeerId(std::string_view id) noexcept;
bool isValidDisplayName(std::string_view name) noexcept;

// What a client may send.
enum class Type { join, offer, answer, candidate, leave };
const char *typeName(Type type) noexcept;

struct Error
{
    ErrorCode code;
    std::string message;
};

// Stage 1 (any connection state): a JSON object with a known "type".
struct Envelope
{
    Type type;
    GPtr<JsonNode> root; // an object node
    JsonObject *object() const noexcept { return json_node_get_object(root.get()); }
};
std::variant<Envelope, Error> parseEnvelope(std::string_view text);

// Stage 2: the fields of each type.
struct Join
{
    std::string room;
    std::optional<std::string> name;
    bool hidden = false;
    std::optional<std::string> token;
};
std::variant<Join, Error> validateJoin(JsonObject *obj);

// offer/answer/candidate: checks the payload; returns the addressee, if any.
struct Signal
{
    Type type;
    std::optional<std::string> to;
};
std::variant<Signal, Error> validateSignal(Type type, JsonObject *obj);

// The forwarded form of a validated signal: the message as sent, with "from"
// set, "to" removed, and "hidden": true only when the sender is hidden.
std::string encodeForwarded(JsonObject *original, std::string_view from, bool senderHidden);

struct PeerInfo
{
    std::string id;
    std::optional<std::string> name; // null when the member gave none
};

// Server to client.
std::string encodeWelcome(
    std::string_view id, std::string_view room, const std::vector<PeerInfo> &peers, bool recording);
std::string encodePeerJoined(const PeerInfo &peer);
std::string encodePeerLeft(std::string_view id);
std::string encodeRecording(bool active);
std::string encodeError(ErrorCode code, std::string_view message);

// Client to server.
struct Candidate
{
    std::string candidate;
    std::optional<std::string> sdpMid;
    std::optional<int> sdpMLineIndex;
};
std::string encodeJoin(const Join &join);
std::string encodeOffer(std::optional<std::string_view> to, std::string_view sdp);
std::string encodeAnswer(std::optional<std::string_view> to, std::string_view sdp);
// nullopt candidate encodes the end-of-candidates null.
std::string encodeCandidate(
    std::optional<std::string_view> to, const std::optional<Candidate> &candidate);
std::string encodeLeave();

// Server to client, decoded on the client side.
struct Welcome
{
    std::string id;
    std::string room;
    std::vector<PeerInfo> peers;
    bool recording = false;
};
struct PeerJoined
{
    PeerInfo peer;
};
struct PeerLeft
{
    std::string id;
};
struct RecordingNotice
{
    bool active = false;
};
struct ServerError
{
    std::string code;
    std::string message;
};
struct Description
{ // a forwarded offer or answer
    Type type;
    std::string from;
    bool hidden = false;
    std::string sdp;
};
struct RemoteCandidate
{
    std::string from;
    bool hidden = false;
    std::optional<Candidate> candidate; // nullopt: end of candidates
};
using ServerMessage = std::variant<Welcome, PeerJoined, PeerLeft, RecordingNotice, ServerError,
    Description, RemoteCandidate>;

std::optional<ServerMessage> decodeServerMessage(std::string_view text, std::string &error);

} // namespace rc::protocol
