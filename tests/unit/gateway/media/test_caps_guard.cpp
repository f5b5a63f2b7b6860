// The caps guard: which mid-stream caps changes are held back (size, frame rate, codec_data of a
// video codec whose bitstream carries them) and which pass (before data, codec or framing
// changes, audio); through admitCaps() and through the pad probe as GStreamer would call it (a
// held-back event is replaced, not dropped).
#include "gateway/media/caps_guard.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using rc::gateway::CapsGuard;

namespace {

struct Gst
{
    Gst() { gst_init(nullptr, nullptr); }
};

// Owned caps from text.
std::shared_ptr<GstCaps> caps(const char *text)
{
    static Gst once;
    return std::shared_ptr<GstCaps>(gst_caps_from_string(text), gst_caps_unref);
}

constexpr const char *kH264Big = "video/x-h264,stream-format=avc,alignment=au,width=1280,"
                                 "height=720,framerate=30/1,codec_data=(buffer)0164001fffe1";
constexpr const char *kH264Small = "video/x-h264,stream-format=avc,alignment=au,width=640,"
                                   "height=360,framerate=15/1,codec_data=(buffer)0142c01effe1";

// The caps of the event the probe lets through for one caps event ("" when it passes a buffer,
// "dropped" when it drops).
std::string probe(std::shared_ptr<CapsGuard> &guard, const char *text)
{
    GstPadProbeInfo info {};
    GstMiniObject *data = nullptr;
    if (text) {
        info.type = GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM;
        data = GST_MINI_OBJECT_CAST(gst_event_new_caps(caps(text).get()));
    } else {
        info.type = GST_PAD_PROBE_TYPE_BUFFER;
        data = GST_MINI_OBJECT_CAST(gst_buffer_new_allocate(nullptr, 16, nullptr));
    }
    info.data = data;
    GstPadProbeReturn ret = CapsGuard::probe(nullptr, &info, &guard);
    std::string out;
    if (ret == GST_PAD_PROBE_DROP)
        out = "dropped";
    else if (text) {
        GstCaps *passed = nullptr;
        gst_event_parse_caps(GST_EVENT_CAST(info.data), &passed);
        gchar *str = gst_caps_to_string(passed);
        out = str;
        g_free(str);
    }
    gst_mini_object_unref(GST_MINI_OBJECT_CAST(info.data));
    return out;
}

} // namespace

TEST_CASE("in-band changes: size, rate and parameter sets of one video format and framing",
    "[caps-guard]")
{
    CHECK(CapsGuard::describedInBand(caps(kH264Big).get(), caps(kH264Small).get()));
    CHECK(CapsGuard::describedInBand(caps("video/x-vp8,width=1280,height=720").get(),
        caps("video/x-vp8,width=640,height=360").get()));
    CHECK(CapsGuard::describedInBand(caps("video/x-vp9,width=1280,height=720").get(),
        caps("video/x-vp9,width=640,height=360,profile=(string)0").get()));
}

TEST_CASE("not in-band: another codec, another framing, audio", "[caps-guard]")
{
    CHECK_FALSE(CapsGuard::describedInBand(
        caps(kH264Big).get(), caps("video/x-vp8,width=640,height=360").get()));
    CHECK_FALSE(CapsGuard::describedInBand(caps(kH264Big).get(),
        caps("video/x-h264,stream-format=byte-stream,alignment=au,width=640,height=360").get()));
    CHECK_FALSE(CapsGuard::describedInBand(caps(kH264Big).get(),
        caps("video/x-h264,stream-format=avc,alignment=nal,width=640,height=360").get()));
    CHECK_FALSE(CapsGuard::describedInBand(
        caps("audio/x-opus,channels=2").get(), caps("audio/x-opus,channels=1").get()));
    CHECK_FALSE(CapsGuard::describedInBand(nullptr, caps(kH264Big).get()));
}

TEST_CASE("caps change freely until data flows, then in-band changes are held back", "[caps-guard]")
{
    CapsGuard guard;
    CHECK(guard.admitCaps(caps(kH264Small).get()));
    CHECK(guard.admitCaps(caps(kH264Big).get())); // no data yet: the muxer has not committed
    guard.dataFlowed();
    CHECK(guard.admitCaps(caps(kH264Big).get())); // the same caps again pass (no change)
    CHECK_FALSE(guard.admitCaps(caps(kH264Small).get()));
    CHECK(guard.admitCaps(caps(kH264Big).get())); // back to the kept caps: equal, passes
    CHECK_FALSE(guard.admitCaps(caps(kH264Small).get()));
    CHECK(guard.held() == 2);
    // A framing change is not ours to hide: it passes and becomes the kept caps.
    CHECK(guard.admitCaps(caps("video/x-h264,stream-format=byte-stream,alignment=au").get()));
    CHECK(guard.held() == 2);
}

TEST_CASE(
    "the probe replaces held-back caps events by the kept caps and passes the rest", "[caps-guard]")
{
    auto guard = std::make_shared<CapsGuard>();
    CHECK(probe(guard, "video/x-vp8, width=(int)1280, height=(int)720")
        == "video/x-vp8, width=(int)1280, height=(int)720");
    CHECK(probe(guard, nullptr).empty());
    CHECK(probe(guard, "video/x-vp8, width=(int)640, height=(int)360")
        == "video/x-vp8, width=(int)1280, height=(int)720");
    CHECK(probe(guard, nullptr).empty());
    CHECK(probe(guard, "video/x-vp8, width=(int)1280, height=(int)720")
        == "video/x-vp8, width=(int)1280, height=(int)720");
    CHECK(guard->held() == 1);

    // Other events pass untouched.
    GstPadProbeInfo info {};
    info.type = GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM;
    GstEvent *eos = gst_event_new_eos();
    info.data = eos;
    CHECK(CapsGuard::probe(nullptr, &info, &guard) == GST_PAD_PROBE_OK);
    CHECK(info.data == eos);
    gst_event_unref(eos);
}
