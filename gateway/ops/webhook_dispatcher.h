// Delivers event webhooks (signed JSON POSTs) off the media path: bounded per-receiver queues,
// timeouts, capped backoff.
//
// Owned by main() next to the gateway; thread-bound to the GMainContext it is
// given (construct, enqueue and destroy there; other threads post to it).
// enqueue() only copies the event into a queue and returns: all network I/O
// happens later on the context, asynchronously, so a slow or dead receiver
// never delays the caller, media or the control API.
#pragma once

#include "common/base/gptr.h"
#include "common/base/soup_ptr.h"
#include "common/base/weak_self.h"
#include "gateway/ops/metrics_registry.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace rc::ops {

namespace webhook_event {
inline constexpr const char *participantJoined = "participant.joined";
inline constexpr const char *participantLeft = "participant.left";
inline constexpr const char *outputStarted = "output.started";
inline constexpr const char *outputFinished
    = "output.finished"; // files, durations, sizes, manifest path
inline constexpr const char *outputFailed = "output.failed"; // reason
inline constexpr const char *outputPaused = "output.paused"; // paused_at
inline constexpr const char *outputResumed = "output.resumed";
} // namespace webhook_event

struct WebhookConfig
{
    std::vector<std::string> urls; // http:// or https://, one receiver each
    std::string secret; // HMAC-SHA256 key (required with urls)
    size_t queueCapacity = 1000; // events waiting per receiver; more are dropped
    std::chrono::milliseconds requestTimeout { 5000 }; // one attempt, connect to last byte
    int maxAttempts = 8; // then the event is dropped (gave_up)
    std::chrono::milliseconds initialBackoff { 500 }; // doubles per failed attempt ...
    std::chrono::milliseconds maxBackoff { 60000 }; // ... up to this (with jitter)
};

// Header names (documented in docs/openapi.yaml under webhooks).
inline constexpr const char *kSignatureHeader
    = "X-Roomcast-Signature"; // "sha256=<hex HMAC of the body>"
inline constexpr const char *kEventHeader = "X-Roomcast-Event";
inline constexpr const char *kDeliveryHeader
    = "X-Roomcast-Delivery"; // the event's id, same on retries
inline constexpr const char *kTimestampHeader = "X-Roomcast-Timestamp"; // Unix seconds of the event

class WebhookDispatcher
{
public:
    // Start-up code: throws StartupError(78) for a URL that is not http(s)
    // with a host, or for URLs without a secret.
    WebhookDispatcher(GMainContext *ctx, WebhookConfig config, MetricsRegistry &metrics);
    ~WebhookDispatcher(); // cancels requests in flight; queued events count as dropped
    WebhookDispatcher(const WebhookDispatcher &) = delete;
    WebhookDispatcher &operator=(const WebhookDispatcher &) = delete;

    // Queues {"id", "event", "timestamp", "data"} for every receiver. Returns
    // false if some receiver's queue was full (that copy is dropped and counted).
    bool enqueue(const std::string &event, GPtr<JsonNode> data);

    // Nothing queued, waiting for a retry or in flight: a shutdown may wait
    // for this (bounded) so that output.finished gets out.
    bool idle() const noexcept;
    size_t queued() const noexcept;
    size_t receiverCount() const noexcept { return targets_.size(); }

    // "sha256=" + hex HMAC-SHA256(secret, body): what receivers recompute.
    static std::string signature(const std::string &secret, const std::string &body);
    // The delay before retry number `attempt` (1 = first retry), before jitter.
    static std::chrono::milliseconds backoff(const WebhookConfig &config, int attempt) noexcept;

private:
    struct Delivery
    {
        std::string id, event, body;
        int64_t timestamp = 0;
        int attempts = 0;
    };
    struct Target
    {
        std::string url;
        std::string label; // redacted URL for logs
        std::deque<Delivery> queue;
        bool inFlight = false;
        bool timedOut = false;
        bool failing = false; // logged once per outage
        GPtr<GCancellable> cancellable;
        GPtr<GSource> timer; // request timeout while in flight, backoff between attempts
    };
    struct Attempt;

    void schedulePump(size_t target);
    void pump(size_t target);
    void finished(size_t target, guint status, GError *error);
    static void onSent(GObject *source, GAsyncResult *result, gpointer data) noexcept;

    GPtr<GMainContext> ctx_;
    WebhookConfig config_;
    GPtr<SoupSession> session_;
    std::vector<std::unique_ptr<Target>> targets_;

    CounterFamily deliveries_; // {event}
    CounterFamily failures_; // {reason}: one per failed attempt
    CounterFamily dropped_; // {reason}: queue_full, gave_up, shutdown
    Counter retries_;
    Gauge queueLength_;

    WeakSelf<WebhookDispatcher> self_ { this }; // weak handles for callbacks; last: cut first
};

} // namespace rc::ops
