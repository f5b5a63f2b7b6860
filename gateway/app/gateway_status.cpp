// What the control API sees of the gateway: the ControlBackend (health, rooms, starting and
// stopping outputs, leaving rooms), the metrics it serves and the STATUS= line; see gateway.h
// (the rest of Gateway is in gateway.cpp).
#include "gateway/app/gateway.h"

#include "common/base/json.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/protocol/signaling_client.h"
#include "gateway/app/status_json.h"
#include "gateway/ops/output_params.h"

#include <set>

namespace rc::gateway {

// ----- ControlBackend -----

GPtr<JsonNode> Gateway::health()
{
    const auto totals = SignalingClient::totals();
    const char *signaling = totals.clients == 0 ? "disconnected"
        : totals.joined == totals.clients       ? "connected"
                                                : "connecting";
    size_t participants = 0;
    for (const auto &[name, r] : rooms_)
        participants += r.session->participants().size();
    return json::ObjectBuilder()
        .set("signaling", signaling)
        .set("rooms", static_cast<int64_t>(rooms_.size()))
        .set("participants", static_cast<int64_t>(participants))
        .set("stopping", stopping_)
        .build();
}

ops::BackendResult Gateway::listRooms()
{
    std::vector<GPtr<JsonNode>> rooms;
    for (const auto &[name, r] : rooms_) {
        std::vector<GPtr<JsonNode>> participants;
        for (const auto &p : r.session->participants())
            participants.push_back(participantJson(p));
        rooms.push_back(json::ObjectBuilder()
                            .set("room", name)
                            .set("state", r.leaving ? "leaving" : "joined")
                            .set("participants", arrayNode(std::move(participants)))
                            .set("outputs", outputsJson(name, r.session->outputs()))
                            .build());
    }
    return ops::BackendResult::success(arrayNode(std::move(rooms)));
}

std::optional<std::vector<ops::ParamSpec>> Gateway::outputParams(const std::string &pipeline)
{
    auto it = available_.find(pipeline);
    if (it == available_.end())
        return std::nullopt;
    std::vector<ops::ParamSpec> specs;
    for (const auto &p : it->second.params)
        specs.push_back(paramSpecFor(p));
    return specs;
}

void Gateway::startOutput(const std::string &room, const std::string &pipeline,
    const ops::ParamValues &params, ops::BackendReply reply)
{
    if (stopping_)
        return reply(ops::BackendResult::failure(
            ops::ApiError::unavailable("the gateway is shutting down", "shutting_down")));
    auto tpl = available_.find(pipeline);
    if (tpl == available_.end())
        return reply(ops::BackendResult::failure(
            ops::ApiError::badRequest("unknown pipeline '" + pipeline + "'", "unknown_pipeline")));
    ParamMap resolved;
    std::string why;
    // Only declared, validated values reach here; defaults fill the rest.
    if (!resolveParams(tpl->second, params, resolved, why))
        return reply(ops::BackendResult::failure(ops::ApiError::badRequest(why, "invalid_param")));
    if (!isValidRoomName(room))
        return reply(
            ops::BackendResult::failure(ops::ApiError::notFound("no such room", "room_not_found")));

    bool joinedNow = false;
    auto it = rooms_.find(room);
    if (it != rooms_.end() && it->second.leaving)
        return reply(ops::BackendResult::failure(
            ops::ApiError::conflict("the gateway is leaving room '" + room + "'")));
    if (it == rooms_.end()) {
        std::string error;
        if (!joinRoom(room, false, error)) {
            RC_LOG_ERROR("gateway: cannot join room %s: %s", room.c_str(), error.c_str());
            return reply(ops::BackendResult::failure(
                ops::ApiError::unavailable("cannot join room '" + room + "'")));
        }
        joinedNow = true;
        it = rooms_.find(room);
    }
    OutputInfo started;
    std::string code, error;
    if (!it->second.session->startOutput(tpl->second, resolved, started, code, error)) {
        RC_LOG_WARN("gateway: room %s: cannot start %s: %s (%s)", room.c_str(), pipeline.c_str(),
            error.c_str(), code.c_str());
        if (joinedNow)
            leave(room, nullptr);
        if (code == "conflict")
            return reply(ops::BackendResult::failure(ops::ApiError::conflict(error)));
        return reply(ops::BackendResult::failure(ops::ApiError::internal(error)));
    }
    RC_LOG_INFO("gateway: room %s: output %s (%s) started by the control API", room.c_str(),
        started.id.c_str(), pipeline.c_str());
    updateStatus();
    reply(ops::BackendResult::success(outputJson(room, started)));
}

void Gateway::stopOutput(
    const std::string &room, const std::string &outputId, ops::BackendReply reply)
{
    auto it = rooms_.find(room);
    if (it == rooms_.end())
        return reply(ops::BackendResult::failure(ops::ApiError::notFound(
            "the gateway is not in room '" + room + "'", "room_not_found")));
    auto current = it->second.session->output(outputId);
    if (!current)
        return reply(ops::BackendResult::failure(ops::ApiError::notFound(
            "no output '" + outputId + "' in room '" + room + "'", "output_not_found")));
    if (isFinalOutput(*current))
        return reply(ops::BackendResult::success(outputJson(room, *current)));
    RC_LOG_INFO(
        "gateway: room %s: stopping output %s (control API)", room.c_str(), outputId.c_str());
    it->second.session->stopOutput(
        outputId, [room, outputId, reply = std::move(reply)](std::optional<OutputInfo> final) {
            if (!final)
                return reply(ops::BackendResult::failure(ops::ApiError::notFound(
                    "no output '" + outputId + "' in room '" + room + "'", "output_not_found")));
            reply(ops::BackendResult::success(outputJson(room, *final)));
        });
}

void Gateway::leaveRoom(const std::string &room, ops::BackendReply reply)
{
    if (!rooms_.count(room))
        return reply(ops::BackendResult::failure(ops::ApiError::notFound(
            "the gateway is not in room '" + room + "'", "room_not_found")));
    leave(room, [room, reply = std::move(reply)](const std::vector<OutputInfo> &outputs) {
        reply(ops::BackendResult::success(json::ObjectBuilder()
                                              .set("room", room)
                                              .set("state", "left")
                                              .set("outputs", outputsJson(room, outputs))
                                              .build()));
    });
}

// ----- metrics and status -----

void Gateway::refreshMetrics()
{
    size_t participants = 0;
    std::map<std::pair<std::string, std::string>, double> outputs;
    std::set<std::vector<std::string>> peopleNow, bytesNow;
    for (const auto &[name, r] : rooms_) {
        const auto people = r.session->participants();
        participants += people.size();
        for (const auto &p : people) {
            // ParticipantInfo sums audio and video: one series per participant.
            std::vector<std::string> labels { name, p.id, "all" };
            metrics_.packetsReceived.with(labels).mirror(static_cast<double>(p.packetsReceived));
            metrics_.packetsLost.with(labels).mirror(static_cast<double>(p.packetsLost));
            peopleNow.insert(std::move(labels));
        }
        for (const auto &o : r.session->outputs()) {
            outputs[{ o.templateName, apiOutputState(o.state) }] += 1;
            std::vector<std::string> labels { name, o.id, o.templateName };
            metrics_.outputBytes.with(labels).mirror(static_cast<double>(o.bytes));
            bytesNow.insert(std::move(labels));
        }
    }
    // Series of participants who left and of rooms left go, or a long-running
    // gateway would export every participant it ever saw.
    for (const auto &labels : participantSeries_) {
        if (!peopleNow.count(labels)) {
            metrics_.packetsReceived.remove(labels);
            metrics_.packetsLost.remove(labels);
        }
    }
    for (const auto &labels : outputBytesSeries_)
        if (!bytesNow.count(labels))
            metrics_.outputBytes.remove(labels);
    participantSeries_ = std::move(peopleNow);
    outputBytesSeries_ = std::move(bytesNow);
    metrics_.rooms.set(static_cast<double>(rooms_.size()));
    metrics_.participants.set(static_cast<double>(participants));
    // States that emptied go to 0 rather than vanishing, so rates stay sane.
    for (const auto &key : outputSeries_)
        if (!outputs.count(key))
            metrics_.outputs.with({ key.first, key.second }).set(0);
    for (const auto &[key, n] : outputs) {
        metrics_.outputs.with({ key.first, key.second }).set(n);
        outputSeries_.insert(key);
    }
    const auto totals = SignalingClient::totals();
    metrics_.signalingReconnects.mirror(static_cast<double>(totals.reconnects));
    metrics_.signalingConnected.set(totals.clients > 0 && totals.joined == totals.clients ? 1 : 0);
}

void Gateway::updateStatus()
{
    size_t participants = 0, outputs = 0;
    for (const auto &[name, r] : rooms_) {
        participants += r.session->participants().size();
        for (const auto &o : r.session->outputs())
            outputs += isFinalOutput(o) ? 0 : 1;
    }
    std::string status = SdNotifier::countsStatus(rooms_.size(), participants, outputs);
    if (stopping_)
        status = "stopping: " + status;
    notifier_.status(status);
}

} // namespace rc::gateway
