// The gateway's metric families, registered once, so names and labels are defined in one place (see
// docs/openapi.yaml).
//
// Owned by main() next to the MetricsRegistry it registers in. Handles are
// thread-safe (see metrics_registry.h): cache the Counter returned by
// with() on hot paths (per packet) instead of looking it up each time.
#pragma once

#include "gateway/ops/metrics_registry.h"

namespace rc::ops {

struct GatewayMetrics
{
    explicit GatewayMetrics(MetricsRegistry &registry);

    Gauge rooms; // roomcast_rooms
    Gauge participants; // roomcast_participants
    GaugeFamily outputs; // roomcast_outputs{template,state}
    CounterFamily outputBytes; // roomcast_output_written_bytes_total{room,output,template}
    CounterFamily packetsReceived; // roomcast_rtp_packets_received_total{room,participant,media}
    CounterFamily packetsLost; // roomcast_rtp_packets_lost_total{room,participant,media}
    CounterFamily keyframeRequests; // roomcast_keyframe_requests_total{room}
    Counter signalingReconnects; // roomcast_signaling_reconnects_total
    Gauge signalingConnected; // roomcast_signaling_connected (0/1)
    CounterFamily outputRestarts; // roomcast_output_restarts_total{template}
    Gauge whepViewers; // roomcast_whep_viewers
};

} // namespace rc::ops
