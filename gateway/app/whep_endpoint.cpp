// WHEP requests to the room's live view; see whep_endpoint.h.
#include "gateway/app/whep_endpoint.h"

#include "gateway/room/room_session.h"

namespace rc::gateway {
namespace {

ops::SdpResponse methodNotAllowed(const char *allow)
{
    auto r = ops::SdpResponse::failure(ops::ApiError::methodNotAllowed(std::string("use ") + allow
        + " (trickle ICE is not supported: the answer carries every candidate)"));
    r.headers.emplace_back("Allow", allow);
    return r;
}

} // namespace

ops::SdpEndpointHandler makeWhepEndpoint(
    std::function<RoomSession *(const std::string &room)> findRoom)
{
    return [findRoom](const ops::SdpRequest &request, ops::SdpReply reply) {
        RoomSession *session = findRoom(request.room);
        WhepRoom *live = session ? session->liveView() : nullptr;
        if (!live)
            return reply(ops::SdpResponse::failure(ops::ApiError::notFound(
                "the gateway is not recording room '" + request.room + "'", "room_not_found")));
        if (request.rest.empty()) {
            if (request.method != "POST")
                return reply(methodNotAllowed("POST"));
            const std::string room = request.room;
            live->addViewer(request.body, [reply, room](WhepRoom::Answer answer) {
                if (!answer.ok)
                    return reply(
                        ops::SdpResponse::failure({ answer.status, answer.code, answer.message }));
                ops::SdpResponse r;
                r.status = SOUP_STATUS_CREATED;
                r.contentType = "application/sdp";
                r.body = std::move(answer.sdp);
                r.location = "/whep/" + room + "/" + answer.sessionId;
                reply(std::move(r));
            });
            return;
        }
        const std::string id = request.rest.substr(1);
        if (request.method != "DELETE")
            return reply(methodNotAllowed("DELETE"));
        if (id.empty() || id.find('/') != std::string::npos || !live->removeViewer(id))
            return reply(ops::SdpResponse::failure(
                ops::ApiError::notFound("no such WHEP session", "session_not_found")));
        ops::SdpResponse r;
        r.status = SOUP_STATUS_OK;
        reply(std::move(r));
    };
}

} // namespace rc::gateway
