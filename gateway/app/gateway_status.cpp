// What the gateway shows of itself: its rooms to the ControlService, the metrics the control API
// serves and the STATUS= line; see gateway.h (the rest of Gateway is in gateway.cpp).
#include "gateway/app/gateway.h"

#include "common/base/json.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/protocol/signaling_client.h"
#include "gateway/app/status_json.h"
#include "gateway/ops/webhook_dispatcher.h"

#include <set>

namespace rc::gateway {

// ----- what the ControlService sees -----

void Gateway::forEachRoom(const std::function<void(const RoomView &)> &fn) const
{
    for (const auto &[name, r] : rooms_)
        fn(RoomView { name, *r.session, r.leaving });
}

RoomSession *Gateway::findRoom(const std::string &room, bool *leaving) const
{
    auto it = rooms_.find(room);
    if (it == rooms_.end())
        return nullptr;
    if (leaving)
        *leaving = it->second.leaving;
    return it->second.session.get();
}

const PipelineTemplate *Gateway::startableTemplate(const std::string &name) const
{
    auto it = available_.find(name);
    return it == available_.end() ? nullptr : &it->second;
}

// ----- metrics and status -----

void Gateway::refreshMetrics()
{
    size_t participants = 0, viewers = 0;
    std::map<std::pair<std::string, std::string>, double> outputs;
    std::set<std::vector<std::string>> peopleNow, bytesNow;
    for (const auto &[name, r] : rooms_) {
        const auto people = r.session->participants();
        participants += people.size();
        viewers += r.session->liveViewers();
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
    metrics_.whepViewers.set(static_cast<double>(viewers));
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

void Gateway::outputPauseChanged(const std::string &room, const OutputInfo &output, bool paused)
{
    if (webhooks_)
        webhooks_->enqueue(
            paused ? ops::webhook_event::outputPaused : ops::webhook_event::outputResumed,
            outputJson(room, output));
}

} // namespace rc::gateway
