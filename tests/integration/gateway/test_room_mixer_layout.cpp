// Layout changes in the room composite while participants stream: every join or leave
// re-scales the others' decode branches (fixture: room_mixer_fixture.h).
#include "room_mixer_fixture.h"

using namespace mixertest;

namespace {

// Every ERROR and WARNING a participant's pipeline posted so far (its bus has no watch: they
// queue there), as "source: message" lines.
std::vector<std::string> busProblems(const FakeParticipant &p)
{
    std::vector<std::string> out;
    GPtr<GstBus> bus = adopt(gst_element_get_bus(p.pipeline.get()));
    while (GstMessage *raw = gst_bus_pop_filtered(
               bus.get(), static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
        GPtr<GstMessage> message = adopt(raw);
        const auto problem = readBusProblem(message.get(), "unknown");
        out.push_back(problem->sourcePath + ": " + problem->message);
    }
    return out;
}

// Counts the caps events that the size capsfilter of a participant's video decode branch
// refuses: a probe sees each one just before the capsfilter checks it against its caps, and
// counts those that do not fit them. A capsfilter whose caps change while the scaler in front
// of it negotiates refuses what the scaler then sends (that frame is lost).
struct RefusedCaps
{
    std::shared_ptr<std::atomic<unsigned>> count = std::make_shared<std::atomic<unsigned>>(0);

    void watch(const FakeParticipant &p)
    {
        forEachInVideoBranch(p, "capsfilter", [this](GstElement *e) {
            GPtr<GstPad> pad = adopt(gst_element_get_static_pad(e, "sink"));
            gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, check,
                new std::shared_ptr<std::atomic<unsigned>>(count), drop);
        });
    }
    static GstPadProbeReturn check(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept
    {
        GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
        if (!event || GST_EVENT_TYPE(event) != GST_EVENT_CAPS)
            return GST_PAD_PROBE_OK;
        GstCaps *caps = nullptr;
        gst_event_parse_caps(event, &caps);
        GPtr<GstElement> filter = adopt(gst_pad_get_parent_element(pad));
        GstCaps *wanted = nullptr;
        g_object_get(filter.get(), "caps", &wanted, nullptr);
        GPtr<GstCaps> owned = adopt(wanted);
        if (caps && owned && !gst_caps_is_subset(caps, owned.get()))
            ++**static_cast<std::shared_ptr<std::atomic<unsigned>> *>(data);
        return GST_PAD_PROBE_OK;
    }
    static void drop(gpointer data) noexcept
    {
        delete static_cast<std::shared_ptr<std::atomic<unsigned>> *>(data);
    }
};

} // namespace

TEST_CASE("layout changes while a participant streams never fail its pipeline", "[mixer]")
{
    // Each join or leave re-scales the others' decode branches (MixLane::scaleTo sets the
    // capsfilter while frames flow). With videoconvert right before that capsfilter, a leave
    // once failed the remaining participant's pipeline with not-negotiated (2026-12-05, under
    // the sanitizers): here the sizes change many times, at varied moments of the frame period.
    Fixture f;
    ProbeOutput out("probe");
    std::string error;
    REQUIRE(f.mixer->addOutput(out.bin.get(), error));
    auto bobFeed = f.mixer->addParticipant("bob");
    FakeParticipant bob(*bobFeed, 0xffff0000, "VP8", true);
    auto carolFeed = f.mixer->addParticipant("carol");
    FakeParticipant carol(*carolFeed, 0xff0000ff, "H264", false);
    RefusedCaps refused;
    refused.watch(bob);
    refused.watch(carol);
    f.requireColours(out, { { 80, 120, kRed }, { 240, 120, kBlue } });

    // Three participants without video join and leave in turn: 2 tiles and 5, so bob's and
    // carol's pictures go from 160x120 to 106x80 and back, 400 times, at every phase of their
    // 67 ms frame period.
    std::vector<std::string> present;
    for (int i = 0; i < 400; ++i) {
        if (present.empty()) {
            for (int g = 0; g < 3; ++g) {
                present.push_back("guest" + std::to_string(i) + "-" + std::to_string(g));
                f.mixer->addParticipant(present.back());
            }
        } else {
            for (const auto &id : present)
                f.mixer->removeParticipant(id);
            present.clear();
        }
        f.spin(std::chrono::milliseconds(2 + (i * 37) % 41));
        if (i % 50 == 49) {
            std::string all;
            for (const auto &p : busProblems(bob))
                all += "bob " + p + "; ";
            for (const auto &p : busProblems(carol))
                all += "carol " + p + "; ";
            INFO("after " << i + 1 << " layout changes: " << all);
            REQUIRE(all.empty());
        }
    }
    for (const auto &id : present)
        f.mixer->removeParticipant(id);

    // Both still stream into the composite, at the size of the last layout.
    f.requireColours(out, { { 80, 120, kRed }, { 240, 120, kBlue } });
    std::string sizes;
    const bool settled = f.waitFor([&] {
        sizes = handedOverSize(bob) + " " + handedOverSize(carol);
        return sizes == "160x120 160x120";
    });
    INFO(sizes);
    CHECK(settled);
    const unsigned before = out.videoBuffers->load();
    f.spin(500ms);
    CHECK(out.videoBuffers->load() - before >= 10);
    const auto problems = busProblems(bob);
    CHECK(problems.empty());
    CHECK(f.errors.empty());
    // The size changes between two frames, on the thread that negotiates: no frame is refused.
    CHECK(refused.count->load() == 0);
}
