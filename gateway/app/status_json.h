// JSON views of a room's participants and outputs, as the control API answers them and webhooks
// send them (docs/openapi.yaml: Participant, Output, FileInfo).
//
// Pure functions over plain values; any thread.
#pragma once

#include "common/base/gptr.h"
#include "gateway/output/output_state.h"
#include "gateway/room/room_session.h"

#include <chrono>
#include <string>
#include <vector>

namespace rc::gateway {

// UTC, RFC 3339 with milliseconds: 2026-11-24T06:44:11.964Z.
std::string isoTime(std::chrono::system_clock::time_point t);
// An array node holding items (adopted).
GPtr<JsonNode> arrayNode(std::vector<GPtr<JsonNode>> items);
// An OutputInfo state's API name is apiOutputState(o.state) (gateway/output/output_state.h).
bool isFinalOutput(const OutputInfo &o); // finished or failed
// An Output object: id, room, template, scope, state, url (already redacted
// by the room session), file/participant when there is exactly one file,
// bytes, started_at, reason (failed), restarts, files, manifest.
GPtr<JsonNode> outputJson(const std::string &room, const OutputInfo &o);
GPtr<JsonNode> outputsJson(const std::string &room, const std::vector<OutputInfo> &outputs);
// A Participant object: id, name (if any), joined_at, codecs, receive_bitrate_bps,
// packets_received, packets_lost.
GPtr<JsonNode> participantJson(const ParticipantInfo &p);

} // namespace rc::gateway
