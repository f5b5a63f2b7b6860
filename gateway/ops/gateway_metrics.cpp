// Registration of the gateway's metric families; see gateway_metrics.h.
#include "gateway/ops/gateway_metrics.h"

#include "gateway/ops/process_stats.h"

namespace rc::ops {

GatewayMetrics::GatewayMetrics(MetricsRegistry &r)
    : rooms(r.gauge("roomcast_rooms", "Rooms the gateway is in."))
    , participants(
          r.gauge("roomcast_participants", "Participants the gateway receives, over all rooms."))
    , outputs(r.gaugeFamily(
          "roomcast_outputs", "Outputs by template and state.", { "template", "state" }))
    , outputBytes(r.counterFamily("roomcast_output_written_bytes_total",
          "Bytes written by each output (files or network).", { "room", "output", "template" }))
    , packetsReceived(r.counterFamily("roomcast_rtp_packets_received_total",
          "RTP packets received, by room, participant and media (audio/video).",
          { "room", "participant", "media" }))
    , packetsLost(r.counterFamily("roomcast_rtp_packets_lost_total",
          "RTP packets lost, as reported by the receiver statistics.",
          { "room", "participant", "media" }))
    , keyframeRequests(r.counterFamily("roomcast_keyframe_requests_total",
          "Keyframe requests (PLI/FIR) sent, by room.", { "room" }))
    , signalingReconnects(r.counter(
          "roomcast_signaling_reconnects_total", "Reconnections to the signaling server."))
    , signalingConnected(r.gauge(
          "roomcast_signaling_connected", "1 while connected to the signaling server, else 0."))
    , outputRestarts(r.counterFamily("roomcast_output_restarts_total",
          "Outputs restarted after an error, by template.", { "template" }))
    , whepViewers(r.gauge("roomcast_whep_viewers", "WHEP viewers of the rooms' live views."))
{
    registerProcessMetrics(r);
}

} // namespace rc::ops
