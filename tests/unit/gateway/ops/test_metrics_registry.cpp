// MetricsRegistry: registration rules, label escaping and the rendered text under a strict
// exposition parser.
#include "exposition_parser.h"
#include "gateway/ops/gateway_metrics.h"
#include "gateway/ops/metrics_registry.h"
#include "gateway/ops/process_stats.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <thread>

using rc::ops::MetricsRegistry;
using rc::test::parseExposition;

namespace {

rc::test::Exposition parsed(const MetricsRegistry &registry)
{
    std::string error;
    const std::string text = registry.render();
    auto exposition = parseExposition(text, error);
    INFO(text);
    INFO(error);
    REQUIRE(exposition);
    return *exposition;
}

} // namespace

TEST_CASE("the strict parser accepts the format and refuses violations", "[metrics][parser]")
{
    std::string error;
    CHECK(parseExposition("# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n"
                          "# TYPE g gauge\ng -1.5e3\ng{y=\"q\\\"\\\\\\n\"} NaN 1700000000000\n",
        error));
    CHECK(error.empty());

    struct Bad
    {
        const char *text;
        const char *why;
    };
    const Bad bad[] = {
        { "a 1\n", "no TYPE" },
        { "# TYPE a gauge\na 1", "no final newline" },
        { "# TYPE 1a gauge\n", "name starts with a digit" },
        { "# TYPE a gauge\n# TYPE a gauge\n", "two TYPE lines" },
        { "# TYPE a gauge\na 1\n# TYPE a gauge\n", "TYPE after samples" },
        { "# TYPE a gauge\n# HELP a x\n# HELP a y\n", "two HELP lines" },
        { "# TYPE a_count counter\n", "counter without _total" },
        { "# TYPE a_total counter\na_total -1\n", "negative counter" },
        { "# TYPE a gauge\na{x=\"1\",} 1\n", "trailing comma" },
        { "# TYPE a gauge\na{x=\"1\" 1\n", "unterminated label set" },
        { "# TYPE a gauge\na{x=\"a\\t\"} 1\n", "unknown escape" },
        { "# TYPE a gauge\na{1x=\"a\"} 1\n", "bad label name" },
        { "# TYPE a gauge\na{__x=\"a\"} 1\n", "reserved label name" },
        { "# TYPE a gauge\na{x=\"a\",x=\"b\"} 1\n", "duplicate label" },
        { "# TYPE a gauge\na 0x10\n", "hex value" },
        { "# TYPE a gauge\na one\n", "word value" },
        { "# TYPE a gauge\na 1\na 2\n", "duplicate series" },
        { "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"y\"} 1\n", "split family" },
        { "# TYPE a gauge\na  1\n", "two spaces" },
        { "# TYPE a gauge\r\na 1\n", "carriage return" },
        { "# TYPE a wibble\n", "unknown type" },
    };
    for (const auto &b : bad) {
        INFO(b.why);
        CHECK_FALSE(parseExposition(b.text, error));
    }
}

TEST_CASE("registration enforces Prometheus naming", "[metrics]")
{
    MetricsRegistry r;
    CHECK_THROWS_AS(r.counter("roomcast_things", "no _total"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("1rooms", "bad start"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("room-count", "dash"), std::invalid_argument);
    CHECK_THROWS_AS(
        r.gaugeFamily("roomcast_x", "bad label", { "__reserved" }), std::invalid_argument);
    CHECK_THROWS_AS(r.gaugeFamily("roomcast_x", "bad label", { "a-b" }), std::invalid_argument);

    auto a = r.counterFamily("roomcast_a_total", "A.", { "k" });
    // The same registration again returns the same family.
    auto again = r.counterFamily("roomcast_a_total", "A.", { "k" });
    a.with({ "1" }).inc();
    CHECK(again.with({ "1" }).value() == 1);
    CHECK_THROWS_AS(r.counterFamily("roomcast_a_total", "A.", { "other" }), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("roomcast_a_total", "A."), std::invalid_argument);
    // "x" beside "x_total" would be one family in OpenMetrics.
    CHECK_THROWS_AS(r.gauge("roomcast_a", "A gauge."), std::invalid_argument);
}

TEST_CASE("rendered text parses strictly and follows increments", "[metrics]")
{
    MetricsRegistry r;
    auto rooms = r.gauge("roomcast_rooms", "Rooms the gateway is in.");
    auto outputs = r.gaugeFamily(
        "roomcast_outputs", "Outputs by template and state.", { "template", "state" });
    auto bytes = r.counterFamily(
        "roomcast_output_written_bytes_total", "Bytes written per output.", { "room", "output" });
    auto lost = r.counterFamily("roomcast_rtp_packets_lost_total", "RTP packets lost.", { "room" });
    r.counterFamily(
        "roomcast_keyframe_requests_total", "Keyframe requests sent.", { "room" }); // no series yet

    auto e = parsed(r);
    CHECK(e.value("roomcast_rooms") == 0.0);
    CHECK(e.families.at("roomcast_keyframe_requests_total").samples.empty());
    CHECK(e.families.at("roomcast_rooms").type == "gauge");
    CHECK(e.families.at("roomcast_output_written_bytes_total").type == "counter");
    CHECK(e.families.at("roomcast_rooms").help == "Rooms the gateway is in.");

    rooms.set(2);
    outputs.with({ "record-mkv", "running" }).inc();
    outputs.with({ "record-mkv", "running" }).inc();
    outputs.with({ "rtmp", "failed" }).set(1);
    bytes.with({ "r1", "o1" }).inc(1048576);
    bytes.with({ "r1", "o1" }).inc(5);
    lost.with({ "r1" }).mirror(10);
    lost.with({ "r1" }).mirror(7); // a counter never goes down
    e = parsed(r);
    CHECK(e.value("roomcast_rooms") == 2.0);
    CHECK(e.value("roomcast_outputs", { { "template", "record-mkv" }, { "state", "running" } })
        == 2.0);
    CHECK(e.value("roomcast_outputs", { { "template", "rtmp" }, { "state", "failed" } }) == 1.0);
    CHECK(e.value("roomcast_output_written_bytes_total", { { "room", "r1" }, { "output", "o1" } })
        == 1048581.0);
    CHECK(e.value("roomcast_rtp_packets_lost_total", { { "room", "r1" } }) == 10.0);

    bytes.remove({ "r1", "o1" });
    e = parsed(r);
    CHECK_FALSE(
        e.value("roomcast_output_written_bytes_total", { { "room", "r1" }, { "output", "o1" } }));

    // A wrong label count is a bug, answered with a detached handle.
    auto detached = bytes.with({ "only-one" });
    detached.inc();
    CHECK(detached.value() == 0);
}

TEST_CASE("label values and help text are escaped", "[metrics]")
{
    MetricsRegistry r;
    auto f = r.gaugeFamily("roomcast_escape", "Help with \\ backslash\nand newline.", { "v" });
    const std::string hostile = "a\"b\\c\nd} 1\n# TYPE evil gauge";
    f.with({ hostile }).set(1);
    f.with({ "\xff\xfe invalid utf-8" }).set(2);
    const std::string text = r.render();
    CHECK(text.find("a\\\"b\\\\c\\nd} 1\\n# TYPE evil gauge") != std::string::npos);
    auto e = parsed(r);
    CHECK(e.families.count("evil") == 0);
    CHECK(e.families.at("roomcast_escape").help == "Help with \\ backslash\nand newline.");
    CHECK(e.value("roomcast_escape", { { "v", hostile } }) == 1.0);
    CHECK(e.families.at("roomcast_escape").samples.size() == 2);
}

TEST_CASE("values format as Prometheus floats", "[metrics]")
{
    CHECK(MetricsRegistry::formatValue(0) == "0");
    CHECK(MetricsRegistry::formatValue(123456789012) == "123456789012");
    CHECK(MetricsRegistry::formatValue(0.25) == "0.25");
    CHECK(MetricsRegistry::formatValue(NAN) == "NaN");
    CHECK(MetricsRegistry::formatValue(INFINITY) == "+Inf");
    CHECK(MetricsRegistry::formatValue(-INFINITY) == "-Inf");
    CHECK(MetricsRegistry::formatValue(1e300) == "1.0000000000000001e+300");
}

TEST_CASE("increments from many threads are not lost", "[metrics]")
{
    MetricsRegistry r;
    auto family = r.counterFamily("roomcast_rtp_packets_received_total", "Packets.", { "room" });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10000; ++i)
                family.with({ t % 2 ? "odd" : "even" }).inc();
        });
    for (auto &t : threads)
        t.join();
    auto e = parsed(r);
    CHECK(e.value("roomcast_rtp_packets_received_total", { { "room", "odd" } }) == 20000.0);
    CHECK(e.value("roomcast_rtp_packets_received_total", { { "room", "even" } }) == 20000.0);
}

TEST_CASE("collectors refresh values at render time", "[metrics]")
{
    MetricsRegistry r;
    auto participants = r.gauge("roomcast_participants", "Participants.");
    int calls = 0;
    r.addCollector([&] { participants.set(++calls * 3); });
    CHECK(parsed(r).value("roomcast_participants") == 3.0);
    CHECK(parsed(r).value("roomcast_participants") == 6.0);
}

TEST_CASE("process metrics are present and plausible", "[metrics][process]")
{
    MetricsRegistry r;
    rc::ops::registerProcessMetrics(r);
    // Burn a little CPU so that the counter is positive.
    volatile double x = 0;
    for (int i = 0; i < 20000000; ++i)
        x = x + std::sqrt(static_cast<double>(i));
    auto e = parsed(r);
    CHECK(*e.value("process_cpu_seconds_total") > 0);
    CHECK(*e.value("process_resident_memory_bytes") > 1024 * 1024);
    CHECK(*e.value("process_open_fds") >= 3);
    CHECK(*e.value("process_start_time_seconds") > 1600000000);
    CHECK(e.families.at("process_cpu_seconds_total").type == "counter");
}

TEST_CASE("the gateway's families are registered with conventional names", "[metrics][gateway]")
{
    MetricsRegistry r;
    rc::ops::GatewayMetrics m(r);
    m.rooms.set(1);
    m.participants.set(2);
    m.outputs.with({ "record-mkv", "running" }).set(2);
    auto bytes = m.outputBytes.with({ "lobby", "o1", "record-mkv" });
    bytes.inc(4096);
    m.packetsLost.with({ "lobby", "p1", "video" }).mirror(3);
    m.signalingReconnects.inc();
    auto e = parsed(r);
    for (const auto &[name, family] : e.families) {
        INFO(name);
        CHECK((name.rfind("roomcast_", 0) == 0 || name.rfind("process_", 0) == 0));
        CHECK(family.hasHelp);
        if (family.type == "counter")
            CHECK(name.size() > 6);
        // Base units: nothing in kilobytes or milliseconds.
        CHECK(name.find("_kb") == std::string::npos);
        CHECK(name.find("_ms") == std::string::npos);
    }
    CHECK(e.value("roomcast_output_written_bytes_total",
              { { "room", "lobby" }, { "output", "o1" }, { "template", "record-mkv" } })
        == 4096.0);
    CHECK(e.value("roomcast_rtp_packets_lost_total",
              { { "room", "lobby" }, { "participant", "p1" }, { "media", "video" } })
        == 3.0);
    CHECK(e.value("roomcast_signaling_reconnects_total") == 1.0);
    CHECK(e.families.count("process_cpu_seconds_total"));
    CHECK(e.families.at("roomcast_outputs").type == "gauge");
    // A second GatewayMetrics on the same registry shares the families.
    rc::ops::GatewayMetrics again(r);
    CHECK(again.outputBytes.with({ "lobby", "o1", "record-mkv" }).value() == 4096.0);
}
