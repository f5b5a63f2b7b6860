// A sender that stops for a while (as a browser does on replaceTrack(null): camera and
// microphone off), to test how a receiver keeps its timeline across the gap.
#pragma once

#include <gst/gst.h>

namespace rc::testpeer {

// Drops every raw frame and sample whose timestamp (pipeline running time) falls in
// [at, at + length) at the given encoder inputs (borrowed), so that nothing is encoded or sent
// for that time; sending resumes by itself. Main context, before the pipeline plays.
void installSendPause(
    GstPad *videoEncoderSink, GstPad *audioEncoderSink, GstClockTime at, GstClockTime length);

} // namespace rc::testpeer
