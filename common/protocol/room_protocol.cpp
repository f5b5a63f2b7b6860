// Room protocol validation and encoding; see room_protocol.h and the spec.
#include "common/protocol/room_protocol.h"

#include "common/base/json.h"

#include <cstring>

namespace rc::protocol {
namespace {

struct CodeName
{
    ErrorCode code;
    const char *name;
};
constexpr CodeName kCodeNames[] = {
    { ErrorCode::badMessage, "bad-message" },
    { ErrorCode::notJoined, "not-joined" },
    { ErrorCode::alreadyJoined, "already-joined" },
    { ErrorCode::unknownPeer, "unknown-peer" },
    { ErrorCode::unauthorized, "unauthorized" },
    { ErrorCode::roomFull, "room-full" },
    { ErrorCode::tooLarge, "too-large" },
    { ErrorCode::rateLimited, "rate-limited" },
    { ErrorCode::joinTimeout, "join-timeout" },
    { ErrorCode::tooSlow, "too-slow" },
};

bool isNameChar(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
        || c == '-';
}

bool isIdentifier(std::string_view s) noexcept
{
    if (s.empty() || s.size() > kMaxNameChars)
        return false;
    for (char c : s)
        if (!isNameChar(c))
            return false;
    return true;
}

Error bad(std::string message)
{
    return Error { ErrorCode::badMessage, std::move(message) };
}

// At most maxBytes of s, cut at a character boundary: error messages quote
// client text, and a split UTF-8 sequence would make our own frame invalid.
std::string utf8Prefix(const std::string &s, size_t maxBytes)
{
    if (s.size() <= maxBytes)
        return s;
    size_t end = maxBytes;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
        --end;
    return s.substr(0, end) + "...";
}

// RFC 8259 syntax, strictly: json-glib also accepts single quotes, comments,
// hexadecimal and zero-padded numbers, raw control characters in strings and
// several values in one text, none of which is "exactly one JSON object";
// it also refuses the \u0000 escape (see string()).
// Recursive, so callers bound the nesting depth first.
class StrictJson
{
public:
    explicit StrictJson(std::string_view text)
        : s_(text)
    { }
    bool valid() { return ws() && value() && ws() && pos_ == s_.size(); }

private:
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    bool eat(char c) { return peek() == c && (++pos_, true); }
    bool ws()
    {
        while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')
            ++pos_;
        return true;
    }
    bool literal(std::string_view w)
    {
        return s_.substr(pos_, w.size()) == w && (pos_ += w.size(), true);
    }
    bool digits()
    {
        const size_t start = pos_;
        while (peek() >= '0' && peek() <= '9')
            ++pos_;
        return pos_ > start;
    }
    bool value()
    {
        switch (peek()) {
        case '{':
            return container('}', true);
        case '[':
            return container(']', false);
        case '"':
            return string();
        case 't':
            return literal("true");
        case 'f':
            return literal("false");
        case 'n':
            return literal("null");
        default:
            return number();
        }
    }
    bool container(char close, bool isObject)
    {
        ++pos_;
        ws();
        if (eat(close))
            return true;
        do {
            ws();
            if (isObject && !(peek() == '"' && string() && ws() && eat(':') && ws()))
                return false;
            if (!value())
                return false;
            ws();
        } while (eat(','));
        return eat(close);
    }
    bool string()
    {
        ++pos_;
        while (pos_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[pos_++]);
            if (c == '"')
                return true;
            if (c < 0x20)
                return false;
            if (c != '\\')
                continue;
            const char e = peek();
            ++pos_;
            if (e == 'u') {
                const std::string_view hex = s_.substr(pos_, 4);
                // json-glib hands strings out NUL-terminated, so "a\u0000b"
                // would silently become "a": refused, no field needs a NUL.
                if (hex.size() != 4
                    || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos
                    || hex == "0000")
                    return false;
                pos_ += 4;
            } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos
                || e == '\0') {
                return false;
            }
        }
        return false;
    }
    bool number()
    {
        eat('-');
        if (!eat('0') && !digits())
            return false;
        if (eat('.') && !digits())
            return false;
        if (eat('e') || eat('E')) {
            if (!eat('+'))
                eat('-');
            return digits();
        }
        return true;
    }

    std::string_view s_;
    size_t pos_ = 0;
};

// "to" is optional; null counts as absent.
std::variant<std::optional<std::string>, Error> readTo(JsonObject *obj)
{
    if (!json::hasMember(obj, "to") || json::isNullMember(obj, "to"))
        return std::optional<std::string> {};
    auto to = json::stringMember(obj, "to");
    if (!to)
        return bad("'to' must be a string");
    return std::optional<std::string>(*to);
}

std::optional<Error> checkDescription(JsonObject *obj, const char *field, const char *expectedType)
{
    JsonObject *desc = json::objectMember(obj, field);
    if (!desc)
        return bad(std::string("'") + field + "' must be an object");
    auto type = json::stringMember(desc, "type");
    if (!type || *type != expectedType)
        return bad(std::string("'") + field + ".type' must be \"" + expectedType + "\"");
    if (!json::stringMember(desc, "sdp"))
        return bad(std::string("'") + field + ".sdp' must be a string");
    return std::nullopt;
}

std::optional<Error> checkCandidate(JsonObject *obj)
{
    if (!json::hasMember(obj, "candidate"))
        return bad("'candidate' is required (an object, or null for end of candidates)");
    if (json::isNullMember(obj, "candidate"))
        return std::nullopt;
    JsonObject *c = json::objectMember(obj, "candidate");
    if (!c)
        return bad("'candidate' must be an object or null");
    if (!json::stringMember(c, "candidate"))
        return bad("'candidate.candidate' must be a string");
    if (json::hasMember(c, "sdpMid") && !json::isNullMember(c, "sdpMid")
        && !json::stringMember(c, "sdpMid"))
        return bad("'candidate.sdpMid' must be a string or null");
    if (json::hasMember(c, "sdpMLineIndex") && !json::isNullMember(c, "sdpMLineIndex")) {
        auto idx = json::intMember(c, "sdpMLineIndex");
        if (!idx || *idx < 0 || *idx > 65535)
            return bad("'candidate.sdpMLineIndex' must be a non-negative integer or null");
    }
    return std::nullopt;
}

GPtr<JsonNode> peerNode(const PeerInfo &p)
{
    json::ObjectBuilder b;
    b.set("id", std::string_view(p.id));
    if (p.name)
        b.set("name", std::string_view(*p.name));
    else
        b.setNull("name");
    return b.build();
}

std::optional<PeerInfo> readPeer(JsonObject *obj)
{
    auto id = json::stringMember(obj, "id");
    if (!id)
        return std::nullopt;
    PeerInfo p { *id, json::stringMember(obj, "name") };
    return p;
}

} // namespace

const char *errorCodeName(ErrorCode code) noexcept
{
    for (const auto &cn : kCodeNames)
        if (cn.code == code)
            return cn.name;
    return "bad-message";
}

std::optional<ErrorCode> errorCodeFromName(std::string_view name) noexcept
{
    for (const auto &cn : kCodeNames)
        if (name == cn.name)
            return cn.code;
    return std::nullopt;
}

bool isValidRoom(std::string_view room) noexcept
{
    return isIdentifier(room);
}
bool isValidPeerId(std::string_view id) noexcept
{
    return isIdentifier(id);
}

bool isValidDisplayName(std::string_view name) noexcept
{
    if (name.empty() || !g_utf8_validate(name.data(), static_cast<gssize>(name.size()), nullptr))
        return false;
    size_t chars = 0;
    for (const char *p = name.data(); p < name.data() + name.size(); p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) || c == 0)
            return false;
        if (++chars > kMaxNameChars)
            return false;
    }
    return true;
}

const char *typeName(Type type) noexcept
{
    switch (type) {
    case Type::join:
        return "join";
    case Type::offer:
        return "offer";
    case Type::answer:
        return "answer";
    case Type::candidate:
        return "candidate";
    case Type::leave:
        return "leave";
    }
    return "?";
}

std::variant<Envelope, Error> parseEnvelope(std::string_view text)
{
    std::string error;
    if (json::nestingDepth(text) > kMaxJsonDepth)
        return bad("not JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    if (!StrictJson(text).valid())
        return bad("not JSON: the text is not exactly one RFC 8259 JSON value");
    auto root = json::parse(text, error, kMaxJsonDepth);
    if (!root)
        return bad("not JSON: " + error);
    if (!JSON_NODE_HOLDS_OBJECT(root.get()))
        return bad("a message must be a JSON object");
    auto type = json::stringMember(json_node_get_object(root.get()), "type");
    if (!type)
        return bad("'type' must be a string");
    for (Type t : { Type::join, Type::offer, Type::answer, Type::candidate, Type::leave })
        if (*type == typeName(t))
            return Envelope { t, std::move(root) };
    return bad("unknown type '" + utf8Prefix(*type, 64) + "'");
}

std::variant<Join, Error> validateJoin(JsonObject *obj)
{
    Join join;
    auto room = json::stringMember(obj, "room");
    if (!room || !isValidRoom(*room))
        return bad("'room' must be 1 to 64 characters from [A-Za-z0-9_-]");
    join.room = *room;
    if (json::hasMember(obj, "name") && !json::isNullMember(obj, "name")) {
        auto name = json::stringMember(obj, "name");
        if (!name || !isValidDisplayName(*name))
            return bad("'name' must be 1 to 64 characters without control characters");
        join.name = *name;
    }
    if (json::hasMember(obj, "hidden") && !json::isNullMember(obj, "hidden")) {
        auto hidden = json::boolMember(obj, "hidden");
        if (!hidden)
            return bad("'hidden' must be a boolean");
        join.hidden = *hidden;
    }
    if (json::hasMember(obj, "token") && !json::isNullMember(obj, "token")) {
        auto token = json::stringMember(obj, "token");
        if (!token)
            return bad("'token' must be a string");
        join.token = *token;
    }
    return join;
}

std::variant<Signal, Error> validateSignal(Type type, JsonObject *obj)
{
    auto to = readTo(obj);
    if (auto *e = std::get_if<Error>(&to))
        return *e;
    std::optional<Error> err;
    switch (type) {
    case Type::offer:
        err = checkDescription(obj, "offer", "offer");
        break;
    case Type::answer:
        err = checkDescription(obj, "answer", "answer");
        break;
    case Type::candidate:
        err = checkCandidate(obj);
        break;
    default:
        return bad(std::string("'") + typeName(type) + "' is not a signal");
    }
    if (err)
        return *err;
    return Signal { type, std::get<std::optional<std::string>>(to) };
}

std::string encodeForwarded(JsonObject *original, std::string_view from, bool senderHidden)
{
    // Copy member by member so the sender's own "from"/"hidden"/"to" never survive.
    json::ObjectBuilder b;
    GList *names = json_object_get_members(original);
    for (GList *l = names; l; l = l->next) {
        const char *name = static_cast<const char *>(l->data);
        if (!std::strcmp(name, "to") || !std::strcmp(name, "from") || !std::strcmp(name, "hidden"))
            continue;
        b.set(name, adopt(json_node_copy(json_object_get_member(original, name))));
    }
    g_list_free(names);
    b.set("from", from);
    if (senderHidden)
        b.set("hidden", true);
    return b.toString();
}

std::string encodeWelcome(
    std::string_view id, std::string_view room, const std::vector<PeerInfo> &peers, bool recording)
{
    JsonArray *arr = json_array_new();
    for (const auto &p : peers)
        json_array_add_element(arr, peerNode(p).release());
    JsonNode *arrNode = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(arrNode, arr);
    return json::ObjectBuilder()
        .set("type", "welcome")
        .set("id", id)
        .set("room", room)
        .set("peers", adopt(arrNode))
        .set("recording", recording)
        .toString();
}

std::string encodePeerJoined(const PeerInfo &peer)
{
    return json::ObjectBuilder().set("type", "peer-joined").set("peer", peerNode(peer)).toString();
}

std::string encodePeerLeft(std::string_view id)
{
    return json::ObjectBuilder().set("type", "peer-left").set("id", id).toString();
}

std::string encodeRecording(bool active)
{
    return json::ObjectBuilder().set("type", "recording").set("active", active).toString();
}

std::string encodeError(ErrorCode code, std::string_view message)
{
    return json::ObjectBuilder()
        .set("type", "error")
        .set("code", errorCodeName(code))
        .set("message", message)
        .toString();
}

std::string encodeJoin(const Join &join)
{
    json::ObjectBuilder b;
    b.set("type", "join").set("room", std::string_view(join.room));
    if (join.name)
        b.set("name", std::string_view(*join.name));
    if (join.hidden)
        b.set("hidden", true);
    if (join.token)
        b.set("token", std::string_view(*join.token));
    return b.toString();
}

namespace {
std::string encodeDescription(
    const char *type, std::optional<std::string_view> to, std::string_view sdp)
{
    json::ObjectBuilder b;
    b.set("type", type);
    if (to)
        b.set("to", *to);
    b.set(type, json::ObjectBuilder().set("type", type).set("sdp", sdp).build());
    return b.toString();
}
} // namespace

std::string encodeOffer(std::optional<std::string_view> to, std::string_view sdp)
{
    return encodeDescription("offer", to, sdp);
}

std::string encodeAnswer(std::optional<std::string_view> to, std::string_view sdp)
{
    return encodeDescription("answer", to, sdp);
}

std::string encodeCandidate(
    std::optional<std::string_view> to, const std::optional<Candidate> &candidate)
{
    json::ObjectBuilder b;
    b.set("type", "candidate");
    if (to)
        b.set("to", *to);
    if (!candidate) {
        b.setNull("candidate");
    } else {
        json::ObjectBuilder c;
        c.set("candidate", std::string_view(candidate->candidate));
        if (candidate->sdpMid)
            c.set("sdpMid", std::string_view(*candidate->sdpMid));
        else
            c.setNull("sdpMid");
        if (candidate->sdpMLineIndex)
            c.set("sdpMLineIndex", *candidate->sdpMLineIndex);
        else
            c.setNull("sdpMLineIndex");
        b.set("candidate", c.build());
    }
    return b.toString();
}

std::string encodeLeave()
{
    return json::ObjectBuilder().set("type", "leave").toString();
}

std::optional<ServerMessage> decodeServerMessage(std::string_view text, std::string &error)
{
    auto root = json::parse(text, error, kMaxJsonDepth);
    if (!root)
        return std::nullopt;
    if (!JSON_NODE_HOLDS_OBJECT(root.get())) {
        error = "not a JSON object";
        return std::nullopt;
    }
    JsonObject *obj = json_node_get_object(root.get());
    auto type = json::stringMember(obj, "type");
    if (!type) {
        error = "no 'type'";
        return std::nullopt;
    }
    const bool hidden = json::boolMember(obj, "hidden").value_or(false);
    if (*type == "welcome") {
        Welcome w;
        auto id = json::stringMember(obj, "id");
        auto room = json::stringMember(obj, "room");
        JsonArray *peers = json::arrayMember(obj, "peers");
        if (!id || !room || !peers) {
            error = "welcome without id, room or peers";
            return std::nullopt;
        }
        w.id = *id;
        w.room = *room;
        w.recording = json::boolMember(obj, "recording").value_or(false);
        for (guint i = 0; i < json_array_get_length(peers); ++i) {
            JsonNode *n = json_array_get_element(peers, i);
            if (!JSON_NODE_HOLDS_OBJECT(n))
                continue;
            if (auto p = readPeer(json_node_get_object(n)))
                w.peers.push_back(*p);
        }
        return w;
    }
    if (*type == "peer-joined") {
        auto p = readPeer(json::objectMember(obj, "peer"));
        if (!p) {
            error = "peer-joined without peer.id";
            return std::nullopt;
        }
        return PeerJoined { *p };
    }
    if (*type == "peer-left") {
        auto id = json::stringMember(obj, "id");
        if (!id) {
            error = "peer-left without id";
            return std::nullopt;
        }
        return PeerLeft { *id };
    }
    if (*type == "recording") {
        auto active = json::boolMember(obj, "active");
        if (!active) {
            error = "recording without active";
            return std::nullopt;
        }
        return RecordingNotice { *active };
    }
    if (*type == "error") {
        return ServerError { json::stringMember(obj, "code").value_or(""),
            json::stringMember(obj, "message").value_or("") };
    }
    auto from = json::stringMember(obj, "from");
    if (*type == "offer" || *type == "answer") {
        JsonObject *desc = json::objectMember(obj, type->c_str());
        auto sdp = json::stringMember(desc, "sdp");
        if (!from || !sdp) {
            error = *type + " without from or sdp";
            return std::nullopt;
        }
        return Description { *type == "offer" ? Type::offer : Type::answer, *from, hidden, *sdp };
    }
    if (*type == "candidate") {
        if (!from) {
            error = "candidate without from";
            return std::nullopt;
        }
        RemoteCandidate rc { *from, hidden, std::nullopt };
        if (JsonObject *c = json::objectMember(obj, "candidate")) {
            auto cand = json::stringMember(c, "candidate");
            if (!cand) {
                error = "candidate without candidate.candidate";
                return std::nullopt;
            }
            Candidate out { *cand, json::stringMember(c, "sdpMid"), std::nullopt };
            if (auto idx = json::intMember(c, "sdpMLineIndex"))
                out.sdpMLineIndex = static_cast<int>(*idx);
            rc.candidate = out;
        }
        return rc;
    }
    error = "unknown type '" + utf8Prefix(*type, 64) + "'";
    return std::nullopt;
}

} // namespace rc::protocol
