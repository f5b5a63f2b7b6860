// The control API's /whep/{room} endpoint (WHEP, draft-ietf-wish-whep): a viewer's offer becomes
// a WhepViewer of the room's live view; DELETE on the session's Location ends it.
//
// The handler it makes runs on the gateway's main context (ControlApi calls it there) and is
// owned by the ControlApi; findRoom must stay valid as long as the API (the Gateway outlives
// it).
#pragma once

#include "gateway/ops/control_api.h"

#include <functional>
#include <string>

namespace rc::gateway {

class RoomSession;

// findRoom: the room's running session, nullptr when the gateway is not recording it (or is
// leaving it).
ops::SdpEndpointHandler makeWhepEndpoint(
    std::function<RoomSession *(const std::string &room)> findRoom);

} // namespace rc::gateway
