// The interface between the control API and whatever runs the rooms (the gateway's ControlService
// implements it).
//
// Thread-bound: every method is called on the control API's GMainContext
// thread, and every BackendReply must be invoked exactly once; the API copes
// with a reply from another thread (it re-posts it) or after it is gone
// (the reply is dropped).
#pragma once

#include "common/base/gptr.h"
#include "gateway/ops/api_errors.h"
#include "gateway/ops/output_params.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rc::ops {

// A JSON body for the client, or an error.
struct BackendResult
{
    GPtr<JsonNode> body; // set on success (an object or an array)
    std::optional<ApiError> error;

    static BackendResult success(GPtr<JsonNode> node)
    {
        BackendResult r;
        r.body = std::move(node);
        return r;
    }
    static BackendResult failure(ApiError e)
    {
        BackendResult r;
        r.error = std::move(e);
        return r;
    }
    bool ok() const noexcept { return !error; }
};

using BackendReply = std::function<void(BackendResult)>;

class ControlBackend
{
public:
    virtual ~ControlBackend() = default;

    // A JSON object about liveness; at least {"signaling": "connected" |
    // "connecting" | "disconnected"}. The API adds "status": "ok" (that it
    // answers at all shows that the main loop runs).
    virtual GPtr<JsonNode> health() = 0;

    // The array of rooms (GET /v1/rooms answers {"rooms": [...]}). Each room:
    // {"room", "participants": [{"id", "name", "joined_at", "codecs",
    // "receive_bitrate_bps", "packets_lost"}], "outputs": [output objects]}.
    // An output object: {"id", "template", "scope", "state", "file" or "url"
    // (redacted: see redactUrl), "bytes", "started_at"}. See docs/openapi.yaml.
    virtual BackendResult listRooms() = 0;

    // The parameters pipeline declares, or nullopt when no such template is
    // active (the API then answers 400 unknown_pipeline).
    virtual std::optional<std::vector<ParamSpec>> outputParams(const std::string &pipeline) = 0;

    // POST /v1/rooms/{room}/outputs, with params already validated against
    // outputParams(pipeline). Success: the new output object (201; its "id"
    // makes the Location header). Errors: notFound (no such room), conflict
    // (e.g. the same output already runs), unavailable (shutting down,
    // signaling down).
    virtual void startOutput(const std::string &room, const std::string &pipeline,
        const ParamValues &params, BackendReply reply)
        = 0;

    // DELETE /v1/rooms/{room}/outputs/{id}: finalize (EOS, wait for the
    // sinks), then reply with the final state: files, durations, sizes.
    virtual void stopOutput(
        const std::string &room, const std::string &outputId, BackendReply reply)
        = 0;

    // POST /v1/rooms/{room}/outputs/{id}/pause (pause true) and .../resume (false): a file
    // output writes nothing until resumed (one file, one timeline, a "paused" gap in the
    // manifest), a network output sends black and silence. Success: the output object, with
    // "paused" and "paused_at". Errors: notFound (room_not_found, output_not_found), conflict
    // (already_paused, not_paused, cannot_pause, output_not_running). Not virtual-pure: a
    // backend that has no outputs to pause answers output_not_found.
    virtual BackendResult pauseOutput(
        const std::string &room, const std::string &outputId, bool pause)
    {
        (void)room;
        (void)pause;
        return BackendResult::failure(
            ApiError::notFound("no output '" + outputId + "'", "output_not_found"));
    }

    // DELETE /v1/rooms/{room}: finalize every output of the room and leave it;
    // reply with the room's final outputs.
    virtual void leaveRoom(const std::string &room, BackendReply reply) = 0;
};

} // namespace rc::ops
