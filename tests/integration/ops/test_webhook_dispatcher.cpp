// Webhooks against real receivers on 127.0.0.1: order and signatures, a receiver that never
// answers, overflow, retries.
#include "common/base/json.h"
#include "common/base/main_context.h"
#include "common/base/startup_error.h"
#include "common/ops/http_json.h"
#include "exposition_parser.h"
#include "gateway/ops/webhook_dispatcher.h"
#include "ops_test_support.h"

#include <catch2/catch.hpp>

#include <gio/gio.h>

#include <deque>

using namespace rc;
using namespace rc::ops;
using namespace rc::test;

namespace rc { } // namespace rc

namespace {

const std::string kSecret = "webhook-secret-for-tests";

struct Received
{
    std::string event, delivery, timestamp, signature, body, contentType;
    gint64 atUs = 0;
};

// A webhook receiver: a SoupServer on 127.0.0.1:0 answering with a scripted
// sequence of statuses (then 200), recording every request.
class Receiver
{
public:
    explicit Receiver(Loop &loop)
        : server_(adopt(soup_server_new(nullptr, nullptr)))
    {
        soup_server_add_handler(server_.get(), nullptr, &Receiver::onRequest, this, nullptr);
        GError *error = nullptr;
        REQUIRE(soup_server_listen_local(server_.get(), 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
        GSList *uris = soup_server_get_uris(server_.get());
        REQUIRE(uris);
        url_ = takeString(g_uri_to_string(static_cast<GUri *>(uris->data))) + "hooks/roomcast";
        g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
        (void)loop;
    }
    ~Receiver() { soup_server_disconnect(server_.get()); }

    const std::string &url() const { return url_; }
    std::vector<Received> requests;
    std::deque<guint> script; // statuses to answer with, in order; 200 after

private:
    static void onRequest(
        SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer data) noexcept
    {
        auto *self = static_cast<Receiver *>(data);
        SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
        auto get = [&](const char *name) {
            const char *v = soup_message_headers_get_one(h, name);
            return std::string(v ? v : "");
        };
        Received r;
        r.event = get("X-Roomcast-Event");
        r.delivery = get("X-Roomcast-Delivery");
        r.timestamp = get("X-Roomcast-Timestamp");
        r.signature = get("X-Roomcast-Signature");
        r.contentType = get("Content-Type");
        SoupMessageBody *body = soup_server_message_get_request_body(msg);
        auto bytes = adopt(soup_message_body_flatten(body));
        gsize size = 0;
        const auto *p = static_cast<const char *>(g_bytes_get_data(bytes.get(), &size));
        r.body.assign(p ? p : "", size);
        r.atUs = g_get_monotonic_time();
        self->requests.push_back(std::move(r));
        guint status = 200;
        if (!self->script.empty()) {
            status = self->script.front();
            self->script.pop_front();
        }
        soup_server_message_set_status(msg, status, nullptr);
        soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, "ok", 2);
    }

    GPtr<SoupServer> server_;
    std::string url_;
};

// Accepts TCP connections (the kernel completes the handshake) and never
// reads or answers: the worst kind of receiver.
class BlackHole
{
public:
    BlackHole()
    {
        GError *error = nullptr;
        socket_ = adopt(g_socket_new(
            G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error));
        REQUIRE(socket_);
        auto inet = adopt(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
        auto addr = adopt(g_inet_socket_address_new(inet.get(), 0));
        REQUIRE(g_socket_bind(socket_.get(), addr.get(), TRUE, &error));
        REQUIRE(g_socket_listen(socket_.get(), &error));
        auto local = adopt(g_socket_get_local_address(socket_.get(), &error));
        port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local.get()));
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/never"; }

private:
    GPtr<GSocket> socket_;
    uint16_t port_ = 0;
};

WebhookConfig config(std::vector<std::string> urls)
{
    WebhookConfig c;
    c.urls = std::move(urls);
    c.secret = kSecret;
    c.initialBackoff = 40ms;
    c.maxBackoff = 200ms;
    c.requestTimeout = 2s;
    return c;
}

GPtr<JsonNode> data(const std::string &key, const std::string &value)
{
    return json::ObjectBuilder().set("room", "lobby").set(key.c_str(), value).build();
}

Exposition scrape(const MetricsRegistry &metrics)
{
    std::string error;
    auto e = parseExposition(metrics.render(), error);
    INFO(error);
    REQUIRE(e);
    return *e;
}

} // namespace

TEST_CASE("events arrive in order, signed, with their headers", "[webhooks]")
{
    Loop loop;
    MetricsRegistry metrics;
    Receiver a(loop), b(loop);
    WebhookDispatcher dispatcher(loop.context(), config({ a.url(), b.url() }), metrics);
    CHECK(dispatcher.receiverCount() == 2);

    auto files = adopt(json_array_new());
    json_array_add_string_element(files.get(), "/var/lib/roomcast/lobby/p1.mkv");
    auto filesNode = adopt(json_node_new(JSON_NODE_ARRAY));
    json_node_take_array(filesNode.get(), files.release());
    const std::vector<std::pair<std::string, GPtr<JsonNode>>> events = [&] {
        std::vector<std::pair<std::string, GPtr<JsonNode>>> v;
        v.emplace_back(webhook_event::participantJoined, data("participant", "p1"));
        v.emplace_back(webhook_event::outputStarted, data("output", "o1"));
        v.emplace_back(webhook_event::outputFinished,
            json::ObjectBuilder()
                .set("output", "o1")
                .set("files", std::move(filesNode))
                .set("manifest", "/var/lib/roomcast/lobby/manifest.json")
                .build());
        v.emplace_back(webhook_event::outputFailed, data("reason", "rtmp connection refused"));
        v.emplace_back(webhook_event::participantLeft, data("participant", "p1"));
        return v;
    }();
    for (const auto &[event, payload] : events)
        CHECK(dispatcher.enqueue(event, adopt(json_node_copy(payload.get()))));
    CHECK(dispatcher.queued() == 10);
    CHECK_FALSE(dispatcher.idle());

    REQUIRE(loop.until(
        [&] { return a.requests.size() == 5 && b.requests.size() == 5 && dispatcher.idle(); }));
    for (Receiver *r : { &a, &b }) {
        for (size_t i = 0; i < events.size(); ++i) {
            const Received &got = r->requests[i];
            INFO(got.body);
            CHECK(got.event == events[i].first);
            CHECK(got.contentType.rfind("application/json", 0) == 0);
            // The receiver recomputes the HMAC over the exact body bytes.
            CHECK(got.signature == "sha256=" + http::hmacSha256Hex(kSecret, got.body));
            CHECK(got.signature != "sha256=" + http::hmacSha256Hex("wrong", got.body));
            std::string error;
            auto node = json::parse(got.body, error);
            REQUIRE(node);
            JsonObject *obj = json_node_get_object(node.get());
            CHECK(json::stringMember(obj, "event") == events[i].first);
            CHECK(json::stringMember(obj, "id") == got.delivery);
            CHECK(json::stringMember(obj, "timestamp").value_or("").size()
                == 20); // 2026-01-01T00:00:00Z
            CHECK(std::stoll(got.timestamp) > 1600000000);
            JsonObject *payload = json::objectMember(obj, "data");
            REQUIRE(payload);
            CHECK(json::stringMember(payload, "room")
                == (i == 2 ? std::nullopt : std::optional<std::string>("lobby")));
        }
    }
    // Both receivers got the same event ids.
    CHECK(a.requests[2].delivery == b.requests[2].delivery);
    CHECK(a.requests[2].body.find("manifest.json") != std::string::npos);

    auto e = scrape(metrics);
    CHECK(
        e.value("roomcast_webhook_deliveries_total", { { "event", "participant.joined" } }) == 2.0);
    CHECK(e.value("roomcast_webhook_deliveries_total", { { "event", "output.finished" } }) == 2.0);
    CHECK(e.value("roomcast_webhook_queue_length") == 0.0);
    CHECK(e.value("roomcast_webhook_retries_total") == 0.0);
}

TEST_CASE("a receiver that never answers delays nothing", "[webhooks][latency]")
{
    Loop loop;
    MetricsRegistry metrics;
    BlackHole hole;
    Receiver healthy(loop);
    WebhookDispatcher dispatcher(loop.context(), config({ hole.url(), healthy.url() }), metrics);

    // Something on the loop that must keep its rhythm (standing in for media
    // bookkeeping and the API): the largest gap between 10 ms ticks.
    gint64 last = g_get_monotonic_time(), worstGapUs = 0;
    auto ticker = addTimeout(loop.context(), 10ms, [&] {
        const gint64 now = g_get_monotonic_time();
        worstGapUs = std::max(worstGapUs, now - last);
        last = now;
        return true;
    });

    // An output stops: its handler enqueues output.finished and then
    // finishes the stop; both must happen at once, not after the receiver.
    bool stopped = false;
    const gint64 t0 = g_get_monotonic_time();
    post(loop.context(), [&] {
        for (int i = 0; i < 20; ++i)
            dispatcher.enqueue(
                webhook_event::outputFinished, data("output", "o" + std::to_string(i)));
        post(loop.context(), [&] { stopped = true; });
    });
    REQUIRE(loop.until([&] { return stopped; }, 1s));
    const gint64 stopUs = g_get_monotonic_time() - t0;
    CHECK(stopUs < 100000);

    // The healthy receiver is not held back by the dead one.
    REQUIRE(loop.until([&] { return healthy.requests.size() == 20; }, 5s));
    last = g_get_monotonic_time();
    worstGapUs = 0;
    loop.runFor(500ms);
    CHECK(worstGapUs < 100000);

    // A single enqueue costs microseconds, even with the dead receiver's
    // request in flight.
    const gint64 e0 = g_get_monotonic_time();
    dispatcher.enqueue(webhook_event::participantLeft, data("participant", "p9"));
    CHECK(g_get_monotonic_time() - e0 < 20000);
    CHECK_FALSE(dispatcher.idle());

    // And shutting down with a request in flight is immediate too.
    auto doomed
        = std::make_unique<WebhookDispatcher>(loop.context(), config({ hole.url() }), metrics);
    doomed->enqueue(webhook_event::outputFinished, data("output", "late"));
    loop.runFor(100ms);
    const gint64 d0 = g_get_monotonic_time();
    doomed.reset();
    CHECK(g_get_monotonic_time() - d0 < 100000);
    loop.runFor(50ms);
    auto e = scrape(metrics);
    CHECK(e.value("roomcast_webhook_dropped_total", { { "reason", "shutdown" } }) >= 1.0);
}

TEST_CASE("a full queue drops events and counts them", "[webhooks]")
{
    Loop loop;
    MetricsRegistry metrics;
    BlackHole hole;
    auto c = config({ hole.url() });
    c.queueCapacity = 3;
    WebhookDispatcher dispatcher(loop.context(), c, metrics);
    int accepted = 0;
    for (int i = 0; i < 10; ++i)
        accepted += dispatcher.enqueue(
            webhook_event::participantJoined, data("participant", std::to_string(i)));
    CHECK(accepted == 3);
    CHECK(dispatcher.queued() == 3);
    auto e = scrape(metrics);
    CHECK(e.value("roomcast_webhook_dropped_total", { { "reason", "queue_full" } }) == 7.0);
    CHECK(e.value("roomcast_webhook_queue_length") == 3.0);
}

TEST_CASE("failures are retried with capped backoff", "[webhooks][retry]")
{
    Loop loop;
    MetricsRegistry metrics;
    Receiver flaky(loop);
    flaky.script = { 500, 503, 502 };
    WebhookDispatcher dispatcher(loop.context(), config({ flaky.url() }), metrics);
    dispatcher.enqueue(webhook_event::outputStarted, data("output", "o1"));
    dispatcher.enqueue(webhook_event::outputFinished, data("output", "o1"));
    REQUIRE(loop.until([&] { return flaky.requests.size() == 5 && dispatcher.idle(); }, 5s));

    // The first event took four attempts with one delivery id, and order held.
    for (int i = 0; i < 4; ++i) {
        CHECK(flaky.requests[i].event == "output.started");
        CHECK(flaky.requests[i].delivery == flaky.requests[0].delivery);
        CHECK(flaky.requests[i].body == flaky.requests[0].body);
    }
    CHECK(flaky.requests[4].event == "output.finished");
    // Backoff: at least half of 40, 80, 160 ms (equal jitter), capped at 200.
    const gint64 gap1 = flaky.requests[1].atUs - flaky.requests[0].atUs;
    const gint64 gap2 = flaky.requests[2].atUs - flaky.requests[1].atUs;
    const gint64 gap3 = flaky.requests[3].atUs - flaky.requests[2].atUs;
    CHECK(gap1 >= 20000);
    CHECK(gap2 >= 40000);
    CHECK(gap3 >= 80000);
    CHECK(gap3 < 1000000);

    auto e = scrape(metrics);
    CHECK(e.value("roomcast_webhook_failures_total", { { "reason", "http_5xx" } }) == 3.0);
    CHECK(e.value("roomcast_webhook_retries_total") == 3.0);
    CHECK(e.value("roomcast_webhook_deliveries_total", { { "event", "output.started" } }) == 1.0);

    CHECK(WebhookDispatcher::backoff(config({}), 1) == 40ms);
    CHECK(WebhookDispatcher::backoff(config({}), 3) == 160ms);
    CHECK(WebhookDispatcher::backoff(config({}), 30) == 200ms);
}

TEST_CASE("dispatch gives up after the last attempt, and at once on a 4xx", "[webhooks][retry]")
{
    Loop loop;
    MetricsRegistry metrics;
    Receiver refusing(loop);
    refusing.script = { 500, 500, 400 };
    BlackHole hole;
    auto c = config({ refusing.url(), hole.url() });
    c.maxAttempts = 2;
    c.requestTimeout = 150ms;
    WebhookDispatcher dispatcher(loop.context(), c, metrics);
    dispatcher.enqueue(webhook_event::outputFailed, data("reason", "boom")); // 500, 500: gives up
    dispatcher.enqueue(webhook_event::participantLeft, data("participant", "p")); // 400: no retry
    dispatcher.enqueue(webhook_event::participantLeft, data("participant", "q")); // 200
    REQUIRE(loop.until([&] { return dispatcher.idle(); }, 5s));
    CHECK(refusing.requests.size() == 4);

    auto e = scrape(metrics);
    // Receiver 1: event 1 gave up after 2, event 2 after one 400. The black
    // hole timed out twice per event and gave up on all three.
    CHECK(e.value("roomcast_webhook_dropped_total", { { "reason", "gave_up" } }) == 5.0);
    CHECK(e.value("roomcast_webhook_failures_total", { { "reason", "http_4xx" } }) == 1.0);
    CHECK(e.value("roomcast_webhook_failures_total", { { "reason", "http_5xx" } }) == 2.0);
    CHECK(e.value("roomcast_webhook_failures_total", { { "reason", "timeout" } }) == 6.0);
    CHECK(e.value("roomcast_webhook_deliveries_total", { { "event", "participant.left" } }) == 1.0);
}

TEST_CASE("webhook configuration is checked at start", "[webhooks]")
{
    Loop loop;
    MetricsRegistry metrics;
    auto noSecret = config({ "http://127.0.0.1:9/x" });
    noSecret.secret.clear();
    CHECK_THROWS_AS(WebhookDispatcher(loop.context(), noSecret, metrics), StartupError);
    for (const char *url :
        { "ftp://127.0.0.1/x", "file:///tmp/hook", "http:///nohost", "not a url" }) {
        INFO(url);
        CHECK_THROWS_AS(WebhookDispatcher(loop.context(), config({ url }), metrics), StartupError);
    }
    // No URLs at all: a dispatcher that accepts and discards.
    WebhookConfig none;
    WebhookDispatcher off(loop.context(), none, metrics);
    CHECK(off.enqueue(webhook_event::participantJoined, nullptr));
    CHECK(off.idle());
}
