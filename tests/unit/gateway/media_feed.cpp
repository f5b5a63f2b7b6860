// Builds the encoded test feed for template media tests; see media_feed.h.
#include "media_feed.h"

#include "gateway/templates/template_instance.h"

namespace rc::test {
namespace {

std::string videoChain(const std::string &codec)
{
    // Keyframes every second, as a browser would send after a PLI at most.
    if (codec == "VP8")
        return "vp8enc deadline=1 cpu-used=8 keyframe-max-dist=30 target-bitrate=300000";
    if (codec == "VP9")
        return "vp9enc deadline=1 cpu-used=8 keyframe-max-dist=30 target-bitrate=300000 ! vp9parse";
    if (codec == "H264")
        return "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=300 ! "
               "h264parse";
    if (codec == "AV1")
        return "av1enc cpu-used=8 usage-profile=realtime target-bitrate=300 keyframe-max-dist=30 ! "
               "av1parse";
    return "";
}

} // namespace

GPtr<GstElement> buildFeedPipeline(const gateway::PipelineTemplate &tpl,
    const std::string &outputPath, const std::string &videoCodec, bool live, int seconds,
    std::string &error)
{
    std::string encoder = videoChain(videoCodec);
    if (encoder.empty()) {
        error = "no test encoder for " + videoCodec;
        return nullptr;
    }
    std::string liveProp = live ? " is-live=true" : "";
    std::string videoBuffers = live ? "" : " num-buffers=" + std::to_string(seconds * 30);
    std::string audioBuffers = live ? "" : " num-buffers=" + std::to_string(seconds * 50);
    std::string description = "videotestsrc name=vsrc" + liveProp + videoBuffers
        + " pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! " + encoder
        + " name=vout  audiotestsrc name=asrc" + liveProp + audioBuffers
        + " samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 ! opusenc ! opusparse "
          "name=aout";
    GError *raw = nullptr;
    GPtr<GstElement> pipeline = refSink(
        gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &raw));
    GPtr<GError> err = adopt(raw);
    if (err || !pipeline) {
        error = err ? err->message : "parse failed";
        return nullptr;
    }
    gateway::TemplateVariables vars { "room", "p1", "20261124T041500Z", "" };
    auto instance = gateway::instantiateTemplate(tpl, vars, outputPath, error);
    if (!instance)
        return nullptr;
    GstElement *bin = instance->bin.get();
    // The instance holds its own reference (dropped on return); the pipeline takes another.
    gst_bin_add(GST_BIN(pipeline.get()), bin);
    GPtr<GstElement> vout = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "vout"));
    GPtr<GstElement> aout = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "aout"));
    if (!gst_element_link_pads(vout.get(), "src", bin, "video")
        || !gst_element_link_pads(aout.get(), "src", bin, "audio")) {
        error = "cannot link the test streams to the template's video/audio pads";
        return nullptr;
    }
    return pipeline;
}

} // namespace rc::test
