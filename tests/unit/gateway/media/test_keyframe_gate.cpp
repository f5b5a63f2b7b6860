// The keyframe gate: delta units are dropped until the first keyframe, everything passes after,
// it closes again when re-armed, and it counts what it dropped; through admit() and through the
// pad probe as GStreamer would call it (no pipeline).
#include "gateway/media/keyframe_gate.h"

#include <catch2/catch.hpp>

using rc::gateway::KeyframeGate;

namespace {

struct Gst
{
    Gst() { gst_init(nullptr, nullptr); }
};

// A buffer of one frame: a keyframe, or a delta unit (a frame that needs earlier ones).
GstBuffer *frame(bool keyframe, bool corrupted = false)
{
    static Gst once;
    GstBuffer *buffer = gst_buffer_new_allocate(nullptr, 16, nullptr);
    if (!keyframe)
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    if (corrupted)
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_CORRUPTED);
    return buffer;
}

// Whether gate admits one such frame.
bool admits(KeyframeGate &gate, bool keyframe, bool corrupted = false)
{
    GstBuffer *buffer = frame(keyframe, corrupted);
    const bool admitted = gate.admit(buffer);
    gst_buffer_unref(buffer);
    return admitted;
}

// What the probe answers for one buffer (or a list starting with it), as on a streaming thread.
GstPadProbeReturn probe(std::shared_ptr<KeyframeGate> &gate, GstMiniObject *data, bool list)
{
    GstPadProbeInfo info {};
    info.type = static_cast<GstPadProbeType>(
        list ? GST_PAD_PROBE_TYPE_BUFFER_LIST : GST_PAD_PROBE_TYPE_BUFFER);
    info.data = data;
    GstPadProbeReturn ret = KeyframeGate::probe(nullptr, &info, &gate);
    gst_mini_object_unref(data);
    return ret;
}

} // namespace

TEST_CASE("the gate drops delta units before the first keyframe and counts them", "[keyframe]")
{
    KeyframeGate gate;
    CHECK_FALSE(gate.open());
    CHECK_FALSE(admits(gate, false));
    CHECK_FALSE(admits(gate, false));
    // A corrupted buffer is not a start either, even without the delta flag.
    CHECK_FALSE(admits(gate, true, true));
    CHECK_FALSE(gate.open());
    CHECK(gate.dropped() == 3);
}

TEST_CASE("the first keyframe opens the gate; everything passes after", "[keyframe]")
{
    KeyframeGate gate;
    CHECK_FALSE(admits(gate, false));
    CHECK(admits(gate, true));
    CHECK(gate.open());
    CHECK(admits(gate, false));
    CHECK(admits(gate, false, true));
    CHECK(admits(gate, true));
    CHECK(gate.dropped() == 1);
}

TEST_CASE("a re-armed gate drops deltas again until the next keyframe", "[keyframe]")
{
    KeyframeGate gate;
    CHECK(admits(gate, true));
    gate.rearm();
    CHECK_FALSE(gate.open());
    CHECK_FALSE(admits(gate, false));
    CHECK(gate.dropped() == 1);
    CHECK(admits(gate, true));
    CHECK(gate.open());
    CHECK(admits(gate, false));
}

TEST_CASE("the probe drops or passes buffers and buffer lists by the gate", "[keyframe]")
{
    auto gate = std::make_shared<KeyframeGate>();
    CHECK(probe(gate, GST_MINI_OBJECT_CAST(frame(false)), false) == GST_PAD_PROBE_DROP);
    // A list is judged by its first buffer.
    GstBufferList *deltas = gst_buffer_list_new();
    gst_buffer_list_add(deltas, frame(false));
    gst_buffer_list_add(deltas, frame(true));
    CHECK(probe(gate, GST_MINI_OBJECT_CAST(deltas), true) == GST_PAD_PROBE_DROP);
    CHECK(gate->dropped() == 2);
    // An empty list says nothing about keyframes: it passes and leaves the gate closed.
    CHECK(probe(gate, GST_MINI_OBJECT_CAST(gst_buffer_list_new()), true) == GST_PAD_PROBE_OK);
    CHECK_FALSE(gate->open());
    GstBufferList *keyframeFirst = gst_buffer_list_new();
    gst_buffer_list_add(keyframeFirst, frame(true));
    gst_buffer_list_add(keyframeFirst, frame(false));
    CHECK(probe(gate, GST_MINI_OBJECT_CAST(keyframeFirst), true) == GST_PAD_PROBE_OK);
    CHECK(gate->open());
    CHECK(probe(gate, GST_MINI_OBJECT_CAST(frame(false)), false) == GST_PAD_PROBE_OK);
    CHECK(gate->dropped() == 2);
}
