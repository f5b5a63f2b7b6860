// The control API's view of the gateway; see control_service.h.
#include "gateway/app/control_service.h"

#include "common/base/json.h"
#include "common/protocol/signaling_client.h"
#include "gateway/app/gateway.h"
#include "gateway/app/status_json.h"
#include "gateway/ops/output_params.h"

namespace rc::gateway {

GPtr<JsonNode> ControlService::health()
{
    const auto totals = SignalingClient::totals();
    const char *signaling = totals.clients == 0 ? "disconnected"
        : totals.joined == totals.clients       ? "connected"
                                                : "connecting";
    size_t rooms = 0, participants = 0;
    gateway_.forEachRoom([&](const Gateway::RoomView &r) {
        ++rooms;
        participants += r.session.participants().size();
    });
    return json::ObjectBuilder()
        .set("signaling", signaling)
        .set("rooms", static_cast<int64_t>(rooms))
        .set("participants", static_cast<int64_t>(participants))
        .set("stopping", gateway_.stopping())
        .build();
}

ops::BackendResult ControlService::listRooms()
{
    std::vector<GPtr<JsonNode>> rooms;
    gateway_.forEachRoom([&](const Gateway::RoomView &r) {
        std::vector<GPtr<JsonNode>> participants;
        for (const auto &p : r.session.participants())
            participants.push_back(participantJson(p));
        rooms.push_back(json::ObjectBuilder()
                            .set("room", r.name)
                            .set("state", r.leaving ? "leaving" : "joined")
                            .set("participants", arrayNode(std::move(participants)))
                            .set("outputs", outputsJson(r.name, r.session.outputs()))
                            .build());
    });
    return ops::BackendResult::success(arrayNode(std::move(rooms)));
}

std::optional<std::vector<ops::ParamSpec>> ControlService::outputParams(const std::string &pipeline)
{
    const PipelineTemplate *tpl = gateway_.startableTemplate(pipeline);
    if (!tpl)
        return std::nullopt;
    std::vector<ops::ParamSpec> specs;
    for (const auto &p : tpl->params)
        specs.push_back(paramSpecFor(p));
    return specs;
}

void ControlService::startOutput(const std::string &room, const std::string &pipeline,
    const ops::ParamValues &params, ops::BackendReply reply)
{
    if (gateway_.stopping())
        return reply(ops::BackendResult::failure(
            ops::ApiError::unavailable("the gateway is shutting down", "shutting_down")));
    const PipelineTemplate *tpl = gateway_.startableTemplate(pipeline);
    if (!tpl)
        return reply(ops::BackendResult::failure(
            ops::ApiError::badRequest("unknown pipeline '" + pipeline + "'", "unknown_pipeline")));
    ParamMap resolved;
    std::string why;
    // Only declared, validated values reach here; defaults fill the rest.
    if (!resolveParams(*tpl, params, resolved, why))
        return reply(ops::BackendResult::failure(ops::ApiError::badRequest(why, "invalid_param")));
    if (!isValidRoomName(room))
        return reply(
            ops::BackendResult::failure(ops::ApiError::notFound("no such room", "room_not_found")));

    bool joinedNow = false, leaving = false;
    RoomSession *session = gateway_.findRoom(room, &leaving);
    if (session && leaving)
        return reply(ops::BackendResult::failure(
            ops::ApiError::conflict("the gateway is leaving room '" + room + "'")));
    if (!session) {
        std::string error;
        if (!gateway_.joinRoomForApi(room, error)) {
            log_.error("cannot join room %s: %s", room.c_str(), error.c_str());
            return reply(ops::BackendResult::failure(
                ops::ApiError::unavailable("cannot join room '" + room + "'")));
        }
        joinedNow = true;
        session = gateway_.findRoom(room);
    }
    const auto roomLog = log_.child("room " + room);
    OutputInfo started;
    std::string code, error;
    if (!session->startOutput(*tpl, resolved, started, code, error)) {
        roomLog.warn("cannot start %s: %s (%s)", pipeline.c_str(), error.c_str(), code.c_str());
        if (joinedNow)
            gateway_.leave(room, nullptr);
        if (code == "conflict")
            return reply(ops::BackendResult::failure(ops::ApiError::conflict(error)));
        return reply(ops::BackendResult::failure(ops::ApiError::internal(error)));
    }
    roomLog.info("output %s (%s) started by the control API", started.id.c_str(), pipeline.c_str());
    gateway_.updateStatus();
    reply(ops::BackendResult::success(outputJson(room, started)));
}

void ControlService::stopOutput(
    const std::string &room, const std::string &outputId, ops::BackendReply reply)
{
    RoomSession *session = gateway_.findRoom(room);
    if (!session)
        return reply(ops::BackendResult::failure(ops::ApiError::notFound(
            "the gateway is not in room '" + room + "'", "room_not_found")));
    auto current = session->output(outputId);
    if (!current)
        return reply(ops::BackendResult::failure(ops::ApiError::notFound(
            "no output '" + outputId + "' in room '" + room + "'", "output_not_found")));
    if (isFinalOutput(*current))
        return reply(ops::BackendResult::success(outputJson(room, *current)));
    log_.child("room " + room).info("stopping output %s (control API)", outputId.c_str());
    session->stopOutput(
        outputId, [room, outputId, reply = std::move(reply)](std::optional<OutputInfo> final) {
            if (!final)
                return reply(ops::BackendResult::failure(ops::ApiError::notFound(
                    "no output '" + outputId + "' in room '" + room + "'", "output_not_found")));
            reply(ops::BackendResult::success(outputJson(room, *final)));
        });
}

ops::BackendResult ControlService::pauseOutput(
    const std::string &room, const std::string &outputId, bool pause)
{
    using R = RoomOutputs::PauseResult;
    RoomSession *session = gateway_.findRoom(room);
    if (!session)
        return ops::BackendResult::failure(
            ops::ApiError::notFound("the gateway is not in room '" + room + "'", "room_not_found"));
    OutputInfo info;
    switch (session->pauseOutput(outputId, pause, info)) {
    case R::ok:
        break;
    case R::notFound:
        return ops::BackendResult::failure(ops::ApiError::notFound(
            "no output '" + outputId + "' in room '" + room + "'", "output_not_found"));
    case R::notLive:
        return ops::BackendResult::failure(ops::ApiError::conflict(
            "output '" + outputId + "' has ended or is stopping", "output_not_running"));
    case R::alreadyPaused:
        return ops::BackendResult::failure(ops::ApiError::conflict(
            "output '" + outputId + "' is already paused", "already_paused"));
    case R::notPaused:
        return ops::BackendResult::failure(
            ops::ApiError::conflict("output '" + outputId + "' is not paused", "not_paused"));
    case R::cannotPause:
        return ops::BackendResult::failure(ops::ApiError::conflict("output '" + outputId
                + "' passes the participants' encoded media through and cannot send black; "
                  "stop it instead",
            "cannot_pause"));
    }
    log_.child("room " + room)
        .info("output %s %s by the control API", outputId.c_str(), pause ? "paused" : "resumed");
    gateway_.outputPauseChanged(room, info, pause);
    return ops::BackendResult::success(outputJson(room, info));
}

void ControlService::leaveRoom(const std::string &room, ops::BackendReply reply)
{
    if (!gateway_.findRoom(room))
        return reply(ops::BackendResult::failure(ops::ApiError::notFound(
            "the gateway is not in room '" + room + "'", "room_not_found")));
    gateway_.leave(room, [room, reply = std::move(reply)](const std::vector<OutputInfo> &outputs) {
        reply(ops::BackendResult::success(json::ObjectBuilder()
                                              .set("room", room)
                                              .set("state", "left")
                                              .set("outputs", outputsJson(room, outputs))
                                              .build()));
    });
}

} // namespace rc::gateway
