// The control API's backend: health, the rooms, starting and stopping outputs and leaving rooms,
// answered from what the Gateway exposes for it.
//
// Owned by the Gateway, which it borrows (the Gateway outlives it: the control API that calls it
// is destroyed first). Thread-bound to the gateway's GMainContext, like every ControlBackend.
#pragma once

#include "common/base/log.h"
#include "gateway/ops/control_backend.h"

namespace rc::gateway {

class Gateway;

class ControlService final : public ops::ControlBackend
{
public:
    explicit ControlService(Gateway &gateway)
        : gateway_(gateway)
    { }
    ControlService(const ControlService &) = delete;
    ControlService &operator=(const ControlService &) = delete;

    GPtr<JsonNode> health() override;
    ops::BackendResult listRooms() override;
    std::optional<std::vector<ops::ParamSpec>> outputParams(const std::string &pipeline) override;
    void startOutput(const std::string &room, const std::string &pipeline,
        const ops::ParamValues &params, ops::BackendReply reply) override;
    void stopOutput(
        const std::string &room, const std::string &outputId, ops::BackendReply reply) override;
    void leaveRoom(const std::string &room, ops::BackendReply reply) override;
    ops::BackendResult pauseOutput(
        const std::string &room, const std::string &outputId, bool pause) override;

private:
    Gateway &gateway_;
    rc::log::Logger log_ { "gateway" };
};

} // namespace rc::gateway
