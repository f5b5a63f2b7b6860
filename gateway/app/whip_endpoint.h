// The control API's WHIP endpoint (RFC 9725): POST /whip/{room} makes a publisher a source of
// that room (RoomSession::publishWhip), DELETE /whip/{room}/{id} ends it; no trickle ICE (PATCH:
// 405), as the answer carries every candidate.
//
// The handler borrows the Gateway and runs on its main context (the API's), like every request.
#pragma once

#include "gateway/ops/control_api.h"

namespace rc::gateway {

class Gateway;

// The handler for ControlApi::addSdpEndpoint("whip", ...).
ops::SdpEndpointHandler whipEndpoint(Gateway &gateway);

} // namespace rc::gateway
