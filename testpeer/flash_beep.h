// The flash-beep pattern: a white video frame and a short tone at the same instant every second
// (black and silence otherwise), so that a test can measure audio/video alignment in a recording.
#pragma once

#include <gst/gst.h>

namespace rc::testpeer {

// Installs the pattern on the raw frames and samples going into the encoders (pads borrowed;
// the probes live as long as the pads). Both sides decide from buffer timestamps, which share
// the pipeline's running time, and the audio side from where the video frames fall: the flash
// frame and the tone's first sample carry the same timestamp, whatever the scheduling (silence
// until the first video frame). Expects the video source to be solid black.
// period: between flashes (a whole number of seconds: they fall on its multiples). frames: how
// many frames each flash stays white; one marks the instant exactly, more survive a viewer
// that samples the picture late and so misses single frames (a browser under load). Only the
// first frame of a flash is logged. Main context, before the pipeline plays.
void installFlashBeep(GstPad *videoEncoderSink, GstPad *audioEncoderSink,
    GstClockTime period = GST_SECOND, int frames = 1);

// The tone lasts this long from each flash frame's timestamp.
constexpr GstClockTime kBeepDuration = 100 * GST_MSECOND;

} // namespace rc::testpeer
