// libFuzzer target: the room protocol codec, as the room server decodes client messages and as
// members decode server messages.
#include "common/protocol/room_protocol.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace rc::protocol;

// The server's path: envelope, then the type's validation, then the
// forwarded text a recipient would get (re-decoded like a member would).
void asServer(std::string_view text)
{
    auto envelope = parseEnvelope(text);
    auto *env = std::get_if<Envelope>(&envelope);
    if (!env)
        return;
    if (env->type == Type::join) {
        auto join = validateJoin(env->object());
        if (auto *j = std::get_if<Join>(&join)) {
            std::string error;
            (void)decodeServerMessage(encodeJoin(*j), error);
            (void)encodeWelcome("peer-1", j->room, { { "peer-2", j->name } }, j->hidden);
        }
        return;
    }
    auto signal = validateSignal(env->type, env->object());
    if (!std::holds_alternative<Signal>(signal))
        return;
    std::string forwarded = encodeForwarded(env->object(), "peer-1", true);
    std::string error;
    (void)decodeServerMessage(forwarded, error);
}

// A member's path: every server message it may be sent, re-encoded where
// the codec has an encoder for it.
void asMember(std::string_view text)
{
    std::string error;
    auto message = decodeServerMessage(text, error);
    if (!message)
        return;
    if (auto *welcome = std::get_if<Welcome>(&*message))
        (void)encodeWelcome(welcome->id, welcome->room, welcome->peers, welcome->recording);
    else if (auto *joined = std::get_if<PeerJoined>(&*message))
        (void)encodePeerJoined(joined->peer);
    else if (auto *left = std::get_if<PeerLeft>(&*message))
        (void)encodePeerLeft(left->id);
    else if (auto *serverError = std::get_if<ServerError>(&*message))
        (void)errorCodeFromName(serverError->code);
    else if (auto *description = std::get_if<Description>(&*message))
        (void)(description->type == Type::offer
                ? encodeOffer(description->from, description->sdp)
                : encodeAnswer(description->from, description->sdp));
    else if (auto *candidate = std::get_if<RemoteCandidate>(&*message))
        (void)encodeCandidate(candidate->from, candidate->candidate);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    asServer(text);
    asMember(text);
    (void)isValidRoom(text);
    (void)isValidPeerId(text);
    (void)isValidDisplayName(text);
    return 0;
}
