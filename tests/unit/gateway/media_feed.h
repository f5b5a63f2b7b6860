// Test feed: encoded test streams (videotestsrc/audiotestsrc -> encoder -> parser) into a template
// instance.
#pragma once

#include "common/gst/gst_ptr.h"
#include "gateway/templates/pipeline_template.h"

#include <string>

namespace rc::test {

// A pipeline that feeds a VIDEO_CODEC ("VP8", "VP9", "H264", "AV1") stream and an
// Opus stream, both parsed as the gateway hands them over, into one instance
// of tpl writing to outputPath. Live sources run forever; otherwise each
// source stops after seconds and the pipeline ends with EOS.
// Returns null with error on failure. Call on one thread; gst_init first.
GPtr<GstElement> buildFeedPipeline(const gateway::PipelineTemplate &tpl,
    const std::string &outputPath, const std::string &videoCodec, bool live, int seconds,
    std::string &error);

} // namespace rc::test
