// The room protocol codec: every message type, every malformed variant, and the forwarded form.
#include "common/base/json.h"
#include "common/protocol/room_protocol.h"

#include <catch2/catch.hpp>

using namespace rc;
using namespace rc::protocol;

namespace {

GPtr<JsonNode> parseObject(const std::string &text)
{
    std::string error;
    auto node = json::parse(text, error);
    REQUIRE(node);
    REQUIRE(JSON_NODE_HOLDS_OBJECT(node.get()));
    return node;
}

JsonObject *obj(const GPtr<JsonNode> &node)
{
    return json_node_get_object(node.get());
}

Error envelopeError(const std::string &text)
{
    auto r = parseEnvelope(text);
    REQUIRE(std::holds_alternative<Error>(r));
    return std::get<Error>(r);
}

Type envelopeType(const std::string &text)
{
    auto r = parseEnvelope(text);
    REQUIRE(std::holds_alternative<Envelope>(r));
    return std::get<Envelope>(r).type;
}

std::variant<Join, Error> join(const std::string &text)
{
    return validateJoin(obj(parseObject(text)));
}
std::variant<Signal, Error> signal(Type t, const std::string &text)
{
    return validateSignal(t, obj(parseObject(text)));
}

} // namespace

TEST_CASE("error codes have the spec's names, both ways")
{
    const std::pair<ErrorCode, const char *> all[] = {
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
    for (const auto &[code, name] : all) {
        CHECK(std::string(errorCodeName(code)) == name);
        CHECK(errorCodeFromName(name) == code);
    }
    CHECK_FALSE(errorCodeFromName("nope"));
    CHECK(kCloseNormal == 1000);
    CHECK(kCloseJoinTimeout == 4408);
    CHECK(kCloseTryAgainLater == 1013);
    CHECK(kCloseGoingAway == 1001);
    CHECK(kCloseTooLarge == 1009);
    CHECK(kCloseUnauthorized == 4401);
    CHECK(kCloseRoomFull == 4409);
    CHECK(kMaxMessageBytes == 65536);
}

TEST_CASE("room names and peer ids: 1 to 64 of [A-Za-z0-9_-]")
{
    CHECK(isValidRoom("a"));
    CHECK(isValidRoom("Stand-up_42"));
    CHECK(isValidRoom(std::string(64, 'z')));
    CHECK_FALSE(isValidRoom(""));
    CHECK_FALSE(isValidRoom(std::string(65, 'z')));
    for (const char *bad : { "a b", "a/b", "a.b", "../x", "é", "a\n", "a:b" })
        CHECK_FALSE(isValidRoom(bad));
    CHECK(isValidPeerId("p1"));
    CHECK_FALSE(isValidPeerId(""));
}

TEST_CASE("display names: 1 to 64 characters, valid UTF-8, no control characters")
{
    CHECK(isValidDisplayName("alice"));
    CHECK(isValidDisplayName("Zoë 🎥"));
    std::string sixtyFour;
    for (int i = 0; i < 64; ++i)
        sixtyFour += "é"; // 128 bytes, 64 characters
    CHECK(isValidDisplayName(sixtyFour));
    CHECK_FALSE(isValidDisplayName(sixtyFour + "e"));
    CHECK_FALSE(isValidDisplayName(""));
    CHECK_FALSE(isValidDisplayName("a\nb"));
    CHECK_FALSE(isValidDisplayName("tab\there"));
    CHECK_FALSE(isValidDisplayName(std::string("nul\0x", 5)));
    CHECK_FALSE(isValidDisplayName("\x7f"));
    CHECK_FALSE(isValidDisplayName("\xc2\x85")); // U+0085, a C1 control
    CHECK_FALSE(isValidDisplayName("\xff\xfe"));
}

TEST_CASE("parseEnvelope: every client type")
{
    CHECK(envelopeType(R"({"type":"join","room":"r"})") == Type::join);
    CHECK(envelopeType(R"({"type":"offer"})") == Type::offer);
    CHECK(envelopeType(R"({"type":"answer"})") == Type::answer);
    CHECK(envelopeType(R"({"type":"candidate"})") == Type::candidate);
    CHECK(envelopeType(R"({"type":"leave","whatever":[1]})") == Type::leave);
}

TEST_CASE("parseEnvelope: everything else is bad-message")
{
    for (const char *text :
        { "", "   ", "not json", "{", "{\"type\":\"join\"", "[]", "[{\"type\":\"join\"}]", "42",
            "\"join\"", "null", "true", "{}", R"({"type":1})", R"({"type":null})",
            R"({"type":["join"]})", R"({"type":{"x":1}})", R"({"type":"JOIN"})",
            R"({"type":"welcome"})", R"({"type":"error"})", R"({"type":""})" }) {
        INFO(text);
        CHECK(envelopeError(text).code == ErrorCode::badMessage);
    }
}

TEST_CASE("parseEnvelope: only strict RFC 8259 JSON, exactly one value")
{
    for (const char *text : { R"({"type":"leave",})", R"({'type':'leave'})", R"({type:"leave"})",
             R"({"type":"leave"} // c)", R"(/*c*/{"type":"leave"})",
             R"({"type":"leave"} {"type":"leave"})", R"({"type":"leave"}x)",
             R"({"type":"leave","x":NaN})", R"({"type":"leave","x":0x10})",
             R"({"type":"leave","x":01})", R"({"type":"leave","x":1.})",
             R"({"type":"leave","x":.5})", R"({"type":"leave","x":+1})",
             R"({"type":"leave","x":[1,]})", "{\"type\":\"leave\",\"x\":\"a\tb\"}",
             R"({"type":"leave","x":"\q"})", R"({"type":"leave","x":"\u12"})",
             R"({"type":"join","room":"a\u0000b"})", "\xef\xbb\xbf{\"type\":\"leave\"}",
             R"({"type":"leave","x":True})", R"({"type":"leave" "x":1})",
             R"({"type":"leave",,"x":1})" }) {
        INFO(text);
        CHECK(envelopeError(text).code == ErrorCode::badMessage);
    }
    for (const char *text : { " \r\n\t{\"type\":\"leave\"}\n ",
             R"({"type":"leave","x":[-0.5e+3,1E2,0,{},[],"\u00e9\n\/",true,false,null]})",
             R"({"type":"leave","type":"leave"})" }) {
        INFO(text);
        CHECK(envelopeType(text) == Type::leave);
    }
}

TEST_CASE("parseEnvelope: deep nesting and invalid UTF-8 are refused without parsing")
{
    CHECK(envelopeError(std::string(33, '[') + std::string(33, ']')).code == ErrorCode::badMessage);
    CHECK(envelopeError(std::string(100000, '[')).code == ErrorCode::badMessage);
    std::string deepInside
        = R"({"type":"offer","x":)" + std::string(40, '{') + std::string(40, '}') + "}";
    CHECK(envelopeError(deepInside).code == ErrorCode::badMessage);
    // Brackets inside strings do not count.
    CHECK(envelopeType(R"({"type":"offer","x":")" + std::string(100, '[') + "\"}") == Type::offer);
    CHECK(envelopeType(std::string(R"({"type":"leave","x":)") + std::string(31, '[')
              + std::string(31, ']') + "}")
        == Type::leave);
    CHECK(envelopeError("{\"type\":\"offer\",\"x\":\"\xff\"}").code == ErrorCode::badMessage);
}

TEST_CASE("parseEnvelope: an unknown type's echo is cut at a character boundary")
{
    std::string type;
    for (int i = 0; i < 40; ++i)
        type += "é";
    auto err = envelopeError(R"({"type":")" + type + "\"}");
    CHECK(err.code == ErrorCode::badMessage);
    CHECK(g_utf8_validate(err.message.data(), static_cast<gssize>(err.message.size()), nullptr));
    // And the encoded error is valid JSON text.
    std::string error;
    CHECK(json::parse(encodeError(err.code, err.message), error));
}

TEST_CASE("validateJoin: valid variants")
{
    auto j = join(R"({"type":"join","room":"standup"})");
    REQUIRE(std::holds_alternative<Join>(j));
    CHECK(std::get<Join>(j).room == "standup");
    CHECK_FALSE(std::get<Join>(j).name);
    CHECK_FALSE(std::get<Join>(j).hidden);
    CHECK_FALSE(std::get<Join>(j).token);

    j = join(
        R"({"type":"join","room":"r","name":"alice","hidden":true,"token":"a.b.c","extra":1})");
    REQUIRE(std::holds_alternative<Join>(j));
    CHECK(std::get<Join>(j).name == "alice");
    CHECK(std::get<Join>(j).hidden);
    CHECK(std::get<Join>(j).token == "a.b.c");

    j = join(R"({"type":"join","room":"r","name":null,"hidden":false,"token":null})");
    REQUIRE(std::holds_alternative<Join>(j));
    CHECK_FALSE(std::get<Join>(j).name);
    CHECK_FALSE(std::get<Join>(j).hidden);
}

TEST_CASE("validateJoin: malformed variants are bad-message")
{
    for (const char *text : { R"({"type":"join"})", R"({"type":"join","room":null})",
             R"({"type":"join","room":7})", R"({"type":"join","room":""})",
             R"({"type":"join","room":"has space"})", R"({"type":"join","room":["r"]})",
             R"({"type":"join","room":"r","name":""})", R"({"type":"join","room":"r","name":5})",
             R"({"type":"join","room":"r","name":"a\u0007b"})",
             R"({"type":"join","room":"r","hidden":1})",
             R"({"type":"join","room":"r","hidden":"true"})",
             R"({"type":"join","room":"r","token":42})",
             R"({"type":"join","room":"r","token":{}})" }) {
        INFO(text);
        auto j = join(text);
        REQUIRE(std::holds_alternative<Error>(j));
        CHECK(std::get<Error>(j).code == ErrorCode::badMessage);
    }
}

TEST_CASE("validateSignal: valid offer, answer and candidate, with and without 'to'")
{
    auto s
        = signal(Type::offer, R"({"type":"offer","to":"p2","offer":{"type":"offer","sdp":"v=0"}})");
    REQUIRE(std::holds_alternative<Signal>(s));
    CHECK(std::get<Signal>(s).to == "p2");
    s = signal(Type::answer, R"({"type":"answer","answer":{"type":"answer","sdp":""}})");
    REQUIRE(std::holds_alternative<Signal>(s));
    CHECK_FALSE(std::get<Signal>(s).to);
    s = signal(Type::offer, R"({"type":"offer","to":null,"offer":{"type":"offer","sdp":"x"}})");
    REQUIRE(std::holds_alternative<Signal>(s));
    CHECK_FALSE(std::get<Signal>(s).to);
    for (const char *text :
        { R"({"type":"candidate","candidate":null})",
            R"({"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host"}})",
            R"({"type":"candidate","candidate":{"candidate":"","sdpMid":"0","sdpMLineIndex":0}})",
            R"({"type":"candidate","candidate":{"candidate":"c","sdpMid":null,"sdpMLineIndex":null}})" }) {
        INFO(text);
        CHECK(std::holds_alternative<Signal>(signal(Type::candidate, text)));
    }
}

TEST_CASE("validateSignal: malformed variants are bad-message")
{
    const std::pair<Type, const char *> cases[] = {
        { Type::offer, R"({"type":"offer"})" },
        { Type::offer, R"({"type":"offer","offer":null})" },
        { Type::offer, R"({"type":"offer","offer":"v=0"})" },
        { Type::offer, R"({"type":"offer","offer":{"sdp":"v=0"}})" },
        { Type::offer, R"({"type":"offer","offer":{"type":"answer","sdp":"v=0"}})" },
        { Type::offer, R"({"type":"offer","offer":{"type":"offer"}})" },
        { Type::offer, R"({"type":"offer","offer":{"type":"offer","sdp":5}})" },
        { Type::offer, R"({"type":"offer","to":7,"offer":{"type":"offer","sdp":"x"}})" },
        { Type::offer, R"({"type":"offer","to":["p1"],"offer":{"type":"offer","sdp":"x"}})" },
        { Type::answer, R"({"type":"answer","answer":{"type":"offer","sdp":"x"}})" },
        { Type::answer, R"({"type":"answer","offer":{"type":"answer","sdp":"x"}})" },
        { Type::candidate, R"({"type":"candidate"})" },
        { Type::candidate, R"({"type":"candidate","candidate":"candidate:1"})" },
        { Type::candidate, R"({"type":"candidate","candidate":{}})" },
        { Type::candidate, R"({"type":"candidate","candidate":{"candidate":1}})" },
        { Type::candidate, R"({"type":"candidate","candidate":{"candidate":"c","sdpMid":0}})" },
        { Type::candidate,
            R"({"type":"candidate","candidate":{"candidate":"c","sdpMLineIndex":-1}})" },
        { Type::candidate,
            R"({"type":"candidate","candidate":{"candidate":"c","sdpMLineIndex":1.5}})" },
        { Type::candidate,
            R"({"type":"candidate","candidate":{"candidate":"c","sdpMLineIndex":"0"}})" },
        { Type::candidate,
            R"({"type":"candidate","candidate":{"candidate":"c","sdpMLineIndex":70000}})" },
        { Type::join, R"({"type":"join","room":"r"})" },
        { Type::leave, R"({"type":"leave"})" },
    };
    for (const auto &[type, text] : cases) {
        INFO(text);
        auto s = signal(type, text);
        REQUIRE(std::holds_alternative<Error>(s));
        CHECK(std::get<Error>(s).code == ErrorCode::badMessage);
    }
}

TEST_CASE("encodeForwarded: sets from, strips client-supplied from, hidden and to, keeps the rest")
{
    auto original = parseObject(
        R"({"type":"offer","to":"p2","from":"p99","hidden":true,"offer":{"type":"offer","sdp":"v=0"},"x":[1,{"y":null}]})");
    auto visible = parseObject(encodeForwarded(obj(original), "p1", false));
    JsonObject *v = obj(visible);
    CHECK(json::stringMember(v, "type") == "offer");
    CHECK(json::stringMember(v, "from") == "p1");
    CHECK_FALSE(json::hasMember(v, "to"));
    CHECK_FALSE(json::hasMember(v, "hidden"));
    CHECK(json::stringMember(json::objectMember(v, "offer"), "sdp") == "v=0");
    CHECK(json::arrayMember(v, "x"));

    auto fromHidden = parseObject(encodeForwarded(obj(original), "p7", true));
    CHECK(json::boolMember(obj(fromHidden), "hidden") == true);
    CHECK(json::stringMember(obj(fromHidden), "from") == "p7");

    auto forged
        = parseObject(R"({"type":"candidate","hidden":false,"from":"p1","candidate":null})");
    auto out = parseObject(encodeForwarded(obj(forged), "p3", true));
    CHECK(json::boolMember(obj(out), "hidden") == true);
    CHECK(json::stringMember(obj(out), "from") == "p3");
    CHECK(json::isNullMember(obj(out), "candidate"));
}

TEST_CASE("server messages encode to the spec's shapes and decode back")
{
    std::string error;
    auto w = decodeServerMessage(
        encodeWelcome("p2", "standup", { { "p1", "alice" }, { "p3", std::nullopt } }, true), error);
    REQUIRE(w);
    auto &welcome = std::get<Welcome>(*w);
    CHECK(welcome.id == "p2");
    CHECK(welcome.room == "standup");
    CHECK(welcome.recording);
    REQUIRE(welcome.peers.size() == 2);
    CHECK(welcome.peers[0].name == "alice");
    CHECK_FALSE(welcome.peers[1].name);
    // A nameless peer is listed with name null, not without name.
    CHECK(encodeWelcome("p2", "r", { { "p3", std::nullopt } }, false).find(R"("name":null)")
        != std::string::npos);
    CHECK(encodeWelcome("p1", "r", {}, false)
        == R"({"type":"welcome","id":"p1","room":"r","peers":[],"recording":false})");

    auto pj = decodeServerMessage(encodePeerJoined({ "p4", std::nullopt }), error);
    REQUIRE(pj);
    CHECK(std::get<PeerJoined>(*pj).peer.id == "p4");
    CHECK(encodePeerJoined({ "p4", std::nullopt })
        == R"({"type":"peer-joined","peer":{"id":"p4","name":null}})");

    CHECK(encodePeerLeft("p4") == R"({"type":"peer-left","id":"p4"})");
    CHECK(std::get<PeerLeft>(*decodeServerMessage(encodePeerLeft("p4"), error)).id == "p4");
    CHECK(encodeRecording(true) == R"({"type":"recording","active":true})");
    CHECK(std::get<RecordingNotice>(*decodeServerMessage(encodeRecording(false), error)).active
        == false);

    auto e = decodeServerMessage(encodeError(ErrorCode::rateLimited, "slow down"), error);
    REQUIRE(e);
    CHECK(std::get<ServerError>(*e).code == "rate-limited");
    CHECK(std::get<ServerError>(*e).message == "slow down");
}

TEST_CASE("client messages encode to what the server validates")
{
    auto roundTrip = [](const std::string &text) {
        auto r = parseEnvelope(text);
        REQUIRE(std::holds_alternative<Envelope>(r));
        return std::move(std::get<Envelope>(r));
    };
    {
        auto env = roundTrip(encodeJoin({ "r", "bob", true, "t.o.k" }));
        auto j = validateJoin(env.object());
        REQUIRE(std::holds_alternative<Join>(j));
        CHECK(std::get<Join>(j).name == "bob");
        CHECK(std::get<Join>(j).hidden);
        CHECK(std::get<Join>(j).token == "t.o.k");
    }
    CHECK(
        encodeJoin({ "r", std::nullopt, false, std::nullopt }) == R"({"type":"join","room":"r"})");
    for (const std::string &text : { encodeOffer("p1", "v=0"), encodeOffer(std::nullopt, "v=0"),
             encodeAnswer("p1", "v=0"), encodeCandidate("p1", Candidate { "candidate:x", "0", 0 }),
             encodeCandidate(std::nullopt, Candidate { "candidate:x", std::nullopt, std::nullopt }),
             encodeCandidate("p1", std::nullopt) }) {
        INFO(text);
        auto env = roundTrip(text);
        CHECK(std::holds_alternative<Signal>(validateSignal(env.type, env.object())));
    }
    CHECK(roundTrip(encodeLeave()).type == Type::leave);
}

TEST_CASE("forwarded messages decode on the client side")
{
    std::string error;
    auto offer = parseObject(encodeOffer("p2", "v=0 o"));
    auto d = decodeServerMessage(encodeForwarded(obj(offer), "p1", true), error);
    REQUIRE(d);
    auto &desc = std::get<Description>(*d);
    CHECK(desc.type == Type::offer);
    CHECK(desc.from == "p1");
    CHECK(desc.hidden);
    CHECK(desc.sdp == "v=0 o");

    auto cand = parseObject(encodeCandidate("p2", Candidate { "candidate:1", "a", 1 }));
    auto c = decodeServerMessage(encodeForwarded(obj(cand), "p5", false), error);
    REQUIRE(c);
    auto &rc = std::get<RemoteCandidate>(*c);
    CHECK(rc.from == "p5");
    CHECK_FALSE(rc.hidden);
    REQUIRE(rc.candidate);
    CHECK(rc.candidate->sdpMid == "a");
    CHECK(rc.candidate->sdpMLineIndex == 1);

    auto end = parseObject(encodeCandidate(std::nullopt, std::nullopt));
    auto e = decodeServerMessage(encodeForwarded(obj(end), "p5", false), error);
    REQUIRE(e);
    CHECK_FALSE(std::get<RemoteCandidate>(*e).candidate);
}

TEST_CASE("decodeServerMessage refuses malformed server messages")
{
    for (const char *text : { "nope", "[]", "{}", R"({"type":"welcome","id":"p1"})",
             R"({"type":"peer-joined"})", R"({"type":"peer-left"})", R"({"type":"recording"})",
             R"({"type":"offer","offer":{"sdp":"x"}})", R"({"type":"answer","from":"p1"})",
             R"({"type":"candidate","candidate":null})",
             R"({"type":"candidate","from":"p1","candidate":{"sdpMid":"0"}})",
             R"({"type":"mystery"})" }) {
        INFO(text);
        std::string error;
        CHECK_FALSE(decodeServerMessage(text, error));
        CHECK_FALSE(error.empty());
    }
}
