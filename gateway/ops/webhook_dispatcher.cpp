// Webhook queues, signed POSTs, timeouts and retries on the owning context; see
// webhook_dispatcher.h.
#include "gateway/ops/webhook_dispatcher.h"

#include "roomcast-config.h"

#include "common/base/backoff.h"
#include "common/base/exit_codes.h"
#include "common/base/json.h"
#include "common/base/log.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "common/base/url_redaction.h"
#include "common/ops/http_json.h"

#include <algorithm>

namespace rc::ops {

struct WebhookDispatcher::Attempt
{
    WeakSelf<WebhookDispatcher>::Ref owner;
    size_t target = 0;
    GPtr<SoupMessage> msg;
};

namespace {

// Sets ctx as the thread default for a scope: libsoup delivers async results
// to the context that was the thread default when the call was made.
class ThreadDefault
{
public:
    explicit ThreadDefault(GMainContext *ctx)
        : ctx_(ctx)
    {
        g_main_context_push_thread_default(ctx_);
    }
    ~ThreadDefault() { g_main_context_pop_thread_default(ctx_); }
    ThreadDefault(const ThreadDefault &) = delete;
    ThreadDefault &operator=(const ThreadDefault &) = delete;

private:
    GMainContext *ctx_;
};

std::string isoTimestamp(int64_t unixSeconds)
{
    GDateTime *dt = g_date_time_new_from_unix_utc(unixSeconds);
    if (!dt)
        return {};
    std::string out = takeString(g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ"));
    g_date_time_unref(dt);
    return out;
}

} // namespace

WebhookDispatcher::WebhookDispatcher(
    GMainContext *ctx, WebhookConfig config, MetricsRegistry &metrics)
    : ctx_(ref(ctx))
    , config_(std::move(config))
    , deliveries_(metrics.counterFamily("roomcast_webhook_deliveries_total",
          "Webhook events delivered (2xx answer), by event.", { "event" }))
    , failures_(metrics.counterFamily("roomcast_webhook_failures_total",
          "Failed webhook attempts, by reason (timeout, network, http_4xx, http_5xx, http_other).",
          { "reason" }))
    , dropped_(metrics.counterFamily("roomcast_webhook_dropped_total",
          "Webhook events dropped, by reason (queue_full, gave_up, shutdown).", { "reason" }))
    , retries_(
          metrics.counter("roomcast_webhook_retries_total", "Webhook attempts that were retries."))
    , queueLength_(metrics.gauge("roomcast_webhook_queue_length",
          "Webhook events waiting for delivery, over all receivers."))
{
    if (!config_.urls.empty() && config_.secret.empty())
        throw StartupError(exitcode::config, "webhook URLs need a webhook secret file");
    if (config_.queueCapacity == 0 || config_.maxAttempts < 1)
        throw StartupError(
            exitcode::config, "webhook queue capacity and attempts must be positive");
    for (const auto &url : config_.urls) {
        auto uri = adopt(g_uri_parse(url.c_str(), G_URI_FLAGS_ENCODED, nullptr));
        const char *scheme = uri ? g_uri_get_scheme(uri.get()) : nullptr;
        const char *host = uri ? g_uri_get_host(uri.get()) : nullptr;
        if (!uri || !scheme
            || (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)
            || !host || !*host)
            throw StartupError(exitcode::config,
                "webhook URL '" + redactUrl(url) + "' is not an http(s) URL with a host");
        auto t = std::make_unique<Target>();
        t->url = url;
        t->label = redactUrl(url);
        targets_.push_back(std::move(t));
    }
    ThreadDefault scope(ctx_.get());
    session_
        = adopt(soup_session_new_with_options("user-agent", "roomcast-webhook/" ROOMCAST_VERSION,
            // Order comes from one request in flight per receiver (pump());
            // two connections per host let two receivers on one host proceed.
            "max-conns-per-host", 2, nullptr));
}

WebhookDispatcher::~WebhookDispatcher()
{
    self_.invalidate();
    for (auto &t : targets_) {
        t->timer.reset();
        if (t->cancellable)
            g_cancellable_cancel(t->cancellable.get());
        if (!t->queue.empty()) {
            dropped_.with({ "shutdown" }).inc(static_cast<double>(t->queue.size()));
            queueLength_.dec(static_cast<double>(t->queue.size()));
        }
    }
    if (session_)
        soup_session_abort(session_.get());
}

std::string WebhookDispatcher::signature(const std::string &secret, const std::string &body)
{
    return "sha256=" + http::hmacSha256Hex(secret, body);
}

std::chrono::milliseconds WebhookDispatcher::backoff(
    const WebhookConfig &config, int attempt) noexcept
{
    // The shared schedule, replayed: retry n comes after n - 1 failures already counted.
    Backoff schedule(config.initialBackoff, config.maxBackoff);
    for (int i = 1; i < attempt && schedule.peek() < config.maxBackoff; ++i)
        schedule.next();
    return schedule.peek();
}

bool WebhookDispatcher::enqueue(const std::string &event, GPtr<JsonNode> data)
{
    if (targets_.empty())
        return true;
    const int64_t now = g_get_real_time() / G_USEC_PER_SEC;
    const std::string id = takeString(g_uuid_string_random());
    json::ObjectBuilder envelope;
    envelope.set("id", id).set("event", event).set("timestamp", isoTimestamp(now));
    if (data)
        envelope.set("data", std::move(data));
    else
        envelope.set("data", json::ObjectBuilder().build());
    const std::string body = envelope.toString();

    bool all = true;
    for (size_t i = 0; i < targets_.size(); ++i) {
        Target &t = *targets_[i];
        if (t.queue.size() >= config_.queueCapacity) {
            dropped_.with({ "queue_full" }).inc();
            all = false;
            continue;
        }
        t.queue.push_back(Delivery { id, event, body, now, 0 });
        queueLength_.inc();
        schedulePump(i);
    }
    return all;
}

bool WebhookDispatcher::idle() const noexcept
{
    return std::all_of(targets_.begin(), targets_.end(),
        [](const auto &t) { return t->queue.empty() && !t->inFlight; });
}

size_t WebhookDispatcher::queued() const noexcept
{
    size_t n = 0;
    for (const auto &t : targets_)
        n += t->queue.size();
    return n;
}

void WebhookDispatcher::schedulePump(size_t target)
{
    // Never send from inside the caller's stack: the caller may be stopping
    // an output and must not wait for us, not even to build a request.
    self_.post(
        ctx_.get(), [target](WebhookDispatcher &self) { self.pump(target); }, G_PRIORITY_LOW);
}

void WebhookDispatcher::pump(size_t target)
{
    Target &t = *targets_[target];
    if (t.inFlight || t.timer || t.queue.empty())
        return;
    Delivery &d = t.queue.front();
    if (d.attempts > 0)
        retries_.inc();
    ++d.attempts;

    auto msg = adopt(soup_message_new(SOUP_METHOD_POST, t.url.c_str()));
    if (!msg) { // validated at start, so only a bug gets here
        dropped_.with({ "gave_up" }).inc();
        t.queue.pop_front();
        queueLength_.dec();
        schedulePump(target);
        return;
    }
    // A redirect would turn the POST into a GET elsewhere: treat it as a failure.
    soup_message_add_flags(msg.get(), SOUP_MESSAGE_NO_REDIRECT);
    SoupMessageHeaders *h = soup_message_get_request_headers(msg.get());
    soup_message_headers_replace(h, kEventHeader, d.event.c_str());
    soup_message_headers_replace(h, kDeliveryHeader, d.id.c_str());
    soup_message_headers_replace(h, kTimestampHeader, std::to_string(d.timestamp).c_str());
    soup_message_headers_replace(h, kSignatureHeader, signature(config_.secret, d.body).c_str());
    auto bytes = adopt(g_bytes_new(d.body.data(), d.body.size()));
    soup_message_set_request_body_from_bytes(msg.get(), "application/json", bytes.get());

    t.inFlight = true;
    t.timedOut = false;
    t.cancellable = adopt(g_cancellable_new());
    auto *attempt = new Attempt { self_.ref(), target, ref(msg.get()) };
    {
        ThreadDefault scope(ctx_.get());
        soup_session_send_and_read_async(session_.get(), msg.get(), G_PRIORITY_LOW,
            t.cancellable.get(), &WebhookDispatcher::onSent, attempt);
    }
    t.timer = addTimeout(ctx_.get(), config_.requestTimeout, [this, target] {
        Target &tt = *targets_[target];
        tt.timedOut = true;
        g_source_unref(tt.timer.release()); // G_SOURCE_REMOVE ends it
        if (tt.cancellable)
            g_cancellable_cancel(tt.cancellable.get());
        return false;
    });
}

void WebhookDispatcher::onSent(GObject *source, GAsyncResult *result, gpointer data) noexcept
{
    std::unique_ptr<Attempt> attempt(static_cast<Attempt *>(data));
    GError *rawError = nullptr;
    GBytes *body = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &rawError);
    if (body)
        g_bytes_unref(body); // receivers' answers are not read
    auto error = adopt(rawError);
    WebhookDispatcher *owner = attempt->owner.lock();
    if (!owner)
        return;
    try {
        owner->finished(
            attempt->target, error ? 0 : soup_message_get_status(attempt->msg.get()), error.get());
    } catch (...) {
        RC_LOG_ERROR("webhook: unexpected error while handling an answer");
    }
}

void WebhookDispatcher::finished(size_t target, guint status, GError *error)
{
    Target &t = *targets_[target];
    t.inFlight = false;
    t.timer.reset();
    t.cancellable.reset();
    if (t.queue.empty())
        return;
    Delivery &d = t.queue.front();

    if (!error && status >= 200 && status < 300) {
        deliveries_.with({ d.event }).inc();
        if (t.failing)
            RC_LOG_INFO("webhook %s: delivering again", t.label.c_str());
        t.failing = false;
        t.queue.pop_front();
        queueLength_.dec();
        schedulePump(target);
        return;
    }

    std::string reason;
    bool retry = true;
    if (error) {
        reason = t.timedOut ? "timeout" : "network";
    } else if (status >= 500 || status == 429 || status == 408) {
        reason = status >= 500 ? "http_5xx" : "http_4xx";
    } else {
        reason = status >= 400 && status < 500 ? "http_4xx" : "http_other";
        retry = false; // the receiver refuses this event; resending will not help
    }
    failures_.with({ reason }).inc();
    if (!t.failing)
        RC_LOG_WARN("webhook %s: %s event %s failed (%s%s)", t.label.c_str(), d.event.c_str(),
            d.id.c_str(), reason.c_str(),
            error ? (std::string(": ") + error->message).c_str()
                  : (" " + std::to_string(status)).c_str());
    t.failing = true;

    if (!retry || d.attempts >= config_.maxAttempts) {
        dropped_.with({ "gave_up" }).inc();
        RC_LOG_WARN("webhook %s: gave up on %s event %s after %d attempts", t.label.c_str(),
            d.event.c_str(), d.id.c_str(), d.attempts);
        t.queue.pop_front();
        queueLength_.dec();
        schedulePump(target);
        return;
    }
    // Equal jitter: half fixed, half random, so receivers coming back are not
    // hit by every sender at once.
    const auto base = backoff(config_, d.attempts);
    const auto delay = std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(base.count()) * g_random_double_range(0.5, 1.0)));
    t.timer = addTimeout(ctx_.get(), delay, [this, target] {
        Target &tt = *targets_[target];
        g_source_unref(tt.timer.release());
        pump(target);
        return false;
    });
}

} // namespace rc::ops
