// POST/DELETE/PATCH under /whip/ for the room sessions; see whip_endpoint.h.
#include "gateway/app/whip_endpoint.h"

#include "common/protocol/room_protocol.h"
#include "gateway/app/gateway.h"

#include <glib.h>

namespace rc::gateway {
namespace {

ops::SdpResponse notAllowed(const char *allow, const std::string &message)
{
    auto r = ops::SdpResponse::failure(ops::ApiError::methodNotAllowed(message));
    r.headers.emplace_back("Allow", allow);
    return r;
}

// The "name" parameter of a query string, percent-decoded; nullopt when absent or not text.
std::optional<std::string> nameParameter(const std::string &query, bool &bad)
{
    bad = false;
    GHashTable *form = query.empty()
        ? nullptr
        : g_uri_parse_params(query.c_str(), -1, "&", G_URI_PARAMS_WWW_FORM, nullptr);
    if (!form)
        return std::nullopt;
    std::optional<std::string> name;
    if (const char *v = static_cast<const char *>(g_hash_table_lookup(form, "name"))) {
        if (protocol::isValidDisplayName(v))
            name = v;
        else
            bad = true;
    }
    g_hash_table_unref(form);
    return name;
}

} // namespace

ops::SdpEndpointHandler whipEndpoint(Gateway &gateway)
{
    return [&gateway](const ops::SdpRequest &request, ops::SdpReply reply) {
        const bool session = !request.rest.empty();
        const std::string id = session ? request.rest.substr(1) : std::string();
        if (request.method == "PATCH")
            return reply(notAllowed(session ? "DELETE" : "POST",
                "no trickle ICE or ICE restart here: the answer carries every candidate; "
                "to restart, DELETE the session and POST a new offer"));
        if (request.method == "POST" && session)
            return reply(notAllowed("DELETE", "POST the offer to /whip/{room}"));
        if (request.method == "DELETE" && !session)
            return reply(notAllowed("POST", "DELETE the session's Location"));
        bool leaving = false;
        RoomSession *room = gateway.findRoom(request.room, &leaving);
        if (!room || leaving)
            return reply(ops::SdpResponse::failure(ops::ApiError::notFound(
                "the gateway has no session in room " + request.room, "room_not_found")));
        if (request.method == "DELETE") {
            if (!room->endWhip(id))
                return reply(ops::SdpResponse::failure(
                    ops::ApiError::notFound("no such WHIP session", "session_not_found")));
            ops::SdpResponse done;
            done.status = 200;
            return reply(std::move(done));
        }
        bool badName = false;
        auto name = nameParameter(request.query, badName);
        if (badName)
            return reply(ops::SdpResponse::failure(ops::ApiError::badRequest(
                "name must be 1 to 64 characters of UTF-8 text without control characters",
                "bad_name")));
        room->publishWhip(request.body, name,
            [reply, prefix = "/whip/" + request.room + "/"](const WhipSources::Answer &a) {
                if (a.status != 201) {
                    const char *code = a.status == 400 ? "bad_offer"
                        : a.status == 404              ? "room_not_found"
                        : a.status == 503              ? "unavailable"
                                                       : "internal";
                    return reply(
                        ops::SdpResponse::failure({ static_cast<guint>(a.status), code, a.error }));
                }
                ops::SdpResponse r;
                r.status = 201;
                r.contentType = "application/sdp";
                r.body = a.sdp;
                r.location = prefix + a.id;
                reply(std::move(r));
            });
    };
}

} // namespace rc::gateway
