// The room composite engine's test fixture, shared by the room-mixer test files: synthetic
// participants (solid colours, encoded and fed through MixFeed decode branches) into a
// RoomMixer, read back from output bins. Everything runs on the test's thread and its
// GMainContext (Fixture); the participants' pipelines stream on their own threads.
#pragma once

#include "common/base/main_context.h"
#include "common/gst/gst_helpers.h"
#include "gateway/composite/room_mixer.h"
#include "gateway/templates/pipeline_template.h"
#include "test_support.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace mixertest {

using namespace rc;
using namespace rc::gateway;
using namespace std::chrono_literals;

constexpr int kWidth = 320, kHeight = 240;

struct Rgb
{
    int r = 0, g = 0, b = 0;
};
inline std::string str(Rgb c)
{
    std::ostringstream s;
    s << "(" << c.r << "," << c.g << "," << c.b << ")";
    return s.str();
}
inline bool near(Rgb a, Rgb b, int tolerance = 40)
{
    return std::abs(a.r - b.r) <= tolerance && std::abs(a.g - b.g) <= tolerance
        && std::abs(a.b - b.b) <= tolerance;
}
const Rgb kRed { 255, 0, 0 }, kGreen { 0, 255, 0 }, kBlue { 0, 0, 255 }, kBlack { 0, 0, 0 },
    kGrey { 0x30, 0x30, 0x30 };

inline void requirePlugins()
{
    rc::test::requireElementsOrSkip({ "compositor", "audiomixer", "videotestsrc", "audiotestsrc",
        "vp8enc", "vp8dec", "x264enc", "avdec_h264", "opusenc", "opusdec", "appsink", "appsrc",
        "identity", "avenc_aac", "hlssink2", "mp4mux" });
}

// A participant's pipeline: a solid colour encoded (VP8 or H264) and a tone
// encoded as Opus, each into a decode branch from the mixer's feed.
struct FakeParticipant
{
    GPtr<GstElement> pipeline;

    FakeParticipant(MixFeed &feed, guint argb, const std::string &codec, bool audio)
    {
        std::ostringstream d;
        d << "videotestsrc is-live=true pattern=solid-color foreground-color=" << argb
          << " ! video/x-raw,width=640,height=480,framerate=15/1,format=I420 ! ";
        if (codec == "VP8")
            d << "vp8enc deadline=1 cpu-used=8 keyframe-max-dist=15 ! queue name=vout ";
        else
            d << "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! h264parse ! "
                 "queue name=vout ";
        if (audio)
            d << "audiotestsrc is-live=true wave=sine freq=440 volume=0.5 ! opusenc ! opusparse ! "
                 "queue name=aout ";
        GError *err = nullptr;
        pipeline = refSink(gst_parse_launch(d.str().c_str(), &err));
        if (err) {
            FAIL(err->message);
        }
        attach(feed, MediaKind::video, codec, "vout");
        if (audio)
            attach(feed, MediaKind::audio, "OPUS", "aout");
        REQUIRE(
            gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    }
    void attach(MixFeed &feed, MediaKind kind, const std::string &codec, const char *from)
    {
        std::string error;
        GPtr<GstElement> branch = feed.createDecodeBranch(kind, codec, error);
        INFO(error);
        REQUIRE(branch);
        gst_bin_add(GST_BIN(pipeline.get()), branch.get());
        GPtr<GstElement> queue = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), from));
        REQUIRE(gst_element_link(queue.get(), branch.get()));
    }
    void sendEos() { gst_element_send_event(pipeline.get(), gst_event_new_eos()); }
    ~FakeParticipant()
    {
        if (pipeline)
            gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    }
};

// An output bin with "video" → RGB appsink (latest frame kept) and "audio"
// → appsink, counting buffers and the loudest recent sample.
struct ProbeOutput
{
    GPtr<GstElement> bin;
    GstElement *videoSink = nullptr, *audioSink = nullptr; // borrowed from bin
    std::shared_ptr<std::atomic<unsigned>> videoBuffers
        = std::make_shared<std::atomic<unsigned>>(0);
    std::shared_ptr<std::atomic<unsigned>> audioBuffers
        = std::make_shared<std::atomic<unsigned>>(0);

    explicit ProbeOutput(const std::string &name, const std::string &videoTail = "")
    {
        std::string d = "videoconvert name=video ! video/x-raw,format=RGB " + videoTail
            + "! appsink name=vsink sync=false max-buffers=1 drop=true wait-on-eos=false "
              "audioconvert name=audio ! audio/x-raw,format=S16LE ! appsink name=asink sync=false "
              "max-buffers=1 drop=true wait-on-eos=false";
        GError *err = nullptr;
        bin = refSink(gst_parse_bin_from_description_full(
            d.c_str(), FALSE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err));
        if (err)
            FAIL(err->message);
        gst_object_set_name(GST_OBJECT(bin.get()), name.c_str());
        for (const char *entry : { "video", "audio" }) {
            GPtr<GstElement> e = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), entry));
            GPtr<GstPad> target = adopt(gst_element_get_static_pad(e.get(), "sink"));
            gst_element_add_pad(bin.get(), gst_ghost_pad_new(entry, target.get()));
        }
        GPtr<GstElement> v = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "vsink"));
        GPtr<GstElement> a = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "asink"));
        videoSink = v.get();
        audioSink = a.get();
        count(videoSink, videoBuffers);
        count(audioSink, audioBuffers);
    }
    static void count(GstElement *sink, const std::shared_ptr<std::atomic<unsigned>> &counter)
    {
        GPtr<GstPad> pad = adopt(gst_element_get_static_pad(sink, "sink"));
        gst_pad_add_probe(
            pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
            [](GstPad *, GstPadProbeInfo *, gpointer data) noexcept {
                ++**static_cast<std::shared_ptr<std::atomic<unsigned>> *>(data);
                return GST_PAD_PROBE_OK;
            },
            new std::shared_ptr<std::atomic<unsigned>>(counter),
            [](gpointer data) noexcept {
                delete static_cast<std::shared_ptr<std::atomic<unsigned>> *>(data);
            });
    }
    // The colour at (x, y) of the newest composite frame.
    bool pixel(int x, int y, Rgb &out) const
    {
        GPtr<GstSample> sample = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(videoSink), 0));
        if (sample)
            last_ = std::move(sample);
        if (!last_)
            return false;
        GstVideoInfo info;
        if (!gst_video_info_from_caps(&info, gst_sample_get_caps(last_.get())))
            return false;
        GstVideoFrame frame;
        if (!gst_video_frame_map(&frame, &info, gst_sample_get_buffer(last_.get()), GST_MAP_READ))
            return false;
        const auto *row = static_cast<const guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0))
            + y * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
        out = { row[x * 3], row[x * 3 + 1], row[x * 3 + 2] };
        gst_video_frame_unmap(&frame);
        return true;
    }
    // The loudest sample of the newest audio buffer.
    int peak() const
    {
        GPtr<GstSample> sample = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(audioSink), 0));
        if (!sample)
            return -1;
        GstMapInfo map;
        GstBuffer *buffer = gst_sample_get_buffer(sample.get());
        if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
            return -1;
        int loudest = 0;
        const auto *s = reinterpret_cast<const gint16 *>(map.data);
        for (size_t i = 0; i < map.size / 2; ++i)
            loudest = std::max(loudest, std::abs(static_cast<int>(s[i])));
        gst_buffer_unmap(buffer, &map);
        return loudest;
    }
    mutable GPtr<GstSample> last_;
};

// A shipped room-scope template, instantiated as the gateway does (defaults
// for every parameter, entries ghosted as "video" and "audio"), locations left to the caller.
inline GPtr<GstElement> roomTemplateBin(const std::string &name)
{
    PipelineTemplate tpl = findTemplate({ rc::test::sourcePipelinesDir() }, name);
    REQUIRE(tpl.scope == TemplateScope::room);
    std::string body = tpl.launch;
    for (const auto &p : tpl.params)
        for (size_t at; (at = body.find("${" + p.name + "}")) != std::string::npos;)
            body.replace(at, p.name.size() + 3, p.defaultValue);
    REQUIRE(body.find("${") == std::string::npos);
    GError *err = nullptr;
    GPtr<GstElement> bin = refSink(gst_parse_bin_from_description_full(
        body.c_str(), FALSE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err));
    if (err)
        FAIL(name << ": " << err->message);
    for (const char *entry : { "video", "audio" }) {
        GPtr<GstElement> e = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), entry));
        REQUIRE(e);
        GPtr<GstPad> target = adopt(gst_element_get_static_pad(e.get(), "sink"));
        gst_element_add_pad(bin.get(), gst_ghost_pad_new(entry, target.get()));
    }
    gst_object_set_name(GST_OBJECT(bin.get()), name.c_str());
    return bin;
}

struct Expect
{
    int x, y;
    Rgb colour;
};

struct Fixture
{
    GMainContext *context = g_main_context_new();
    std::vector<GstElement *> eos;
    std::vector<std::pair<GstElement *, std::string>> errors;
    std::vector<BusProblem> problems; // errors' detail, same order
    std::unique_ptr<RoomMixer> mixer;

    Fixture()
    {
        gst_init(nullptr, nullptr);
        requirePlugins();
        RoomMixer::Callbacks cb;
        cb.outputEos = [this](GstElement *bin) { eos.push_back(bin); };
        cb.outputError = [this](GstElement *bin, const BusProblem &problem) {
            errors.emplace_back(bin, problem.describe());
            problems.push_back(problem);
        };
        cb.failed = [](const std::string &message) { FAIL("mixer failed: " << message); };
        mixer = std::make_unique<RoomMixer>(
            context, RoomMixer::Settings { "test", kWidth, kHeight, 30 }, std::move(cb));
        std::string error;
        const bool started = mixer->start(error);
        INFO(error);
        REQUIRE(started);
    }
    ~Fixture()
    {
        mixer.reset();
        g_main_context_unref(context);
    }
    bool waitFor(const std::function<bool()> &pred, std::chrono::milliseconds timeout = 10s)
    {
        return iterateUntil(context, pred, timeout);
    }
    void spin(std::chrono::milliseconds time)
    {
        iterateUntil(
            context, [] { return false; }, time);
    }
    // Waits until every expected pixel has its colour; on timeout reports what was seen.
    void requireColours(const ProbeOutput &out, const std::vector<Expect> &expected)
    {
        std::string seen;
        bool ok = waitFor([&] {
            seen.clear();
            bool all = true;
            for (const auto &e : expected) {
                Rgb c;
                if (!out.pixel(e.x, e.y, c))
                    return false;
                seen += "(" + std::to_string(e.x) + "," + std::to_string(e.y) + ")=" + str(c)
                    + " want " + str(e.colour) + "; ";
                all = all && near(c, e.colour);
            }
            return all;
        });
        INFO(seen);
        REQUIRE(ok);
    }
};

// Calls fn on each element made by the factory named factory inside a participant's video
// decode branches (the bins MixFeed names mixfeed-video-N).
inline void forEachInVideoBranch(const FakeParticipant &p, const std::string &factory,
    const std::function<void(GstElement *)> &fn)
{
    forEachElement(GST_BIN(p.pipeline.get()), [&](GstElement *e) {
        GstElementFactory *made = gst_element_get_factory(e);
        GstObject *parent = GST_OBJECT_PARENT(e);
        if (made && GST_OBJECT_NAME(made) == factory && parent
            && std::string(GST_OBJECT_NAME(parent)).rfind("mixfeed-video", 0) == 0)
            fn(e);
        return true;
    });
}

// The size of the frames a participant's video decode branch hands to the mixer: the caps
// negotiated at its appsink ("0x0" before any).
inline std::string handedOverSize(const FakeParticipant &p)
{
    std::string size = "0x0";
    forEachInVideoBranch(p, "appsink", [&](GstElement *e) {
        GPtr<GstPad> pad = adopt(gst_element_get_static_pad(e, "sink"));
        GPtr<GstCaps> caps = adopt(gst_pad_get_current_caps(pad.get()));
        GstVideoInfo info;
        if (caps && gst_video_info_from_caps(&info, caps.get()))
            size = std::to_string(info.width) + "x" + std::to_string(info.height);
    });
    return size;
}

} // namespace mixertest
