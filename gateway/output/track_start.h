// Keeps audio and video together at the start of a file whose muxer starts every track at 0.
//
// mp4mux in fragmented mode (record-mp4) writes no edit list: each track's first fragment is
// decoded from time 0 (tfdt 0), whatever the first sample's running time was. Video begins at
// its first keyframe, typically 30-100 ms after audio (measured 70 ms with the test peer), so
// such a file would play every sound that much late for its whole length. Matroska keeps each
// track's first timestamp, so MKV and WebM need nothing. The remedy: the first video frame is
// dated back to the file's t=0 (it is shown a little longer, from the start), and every later
// frame keeps its true time, so A/V stay aligned from the first frame on. When video came
// first, the audio packet that straddles t=0 is dated forward to it (at most half a packet)
// rather than dropped, which would make every sound early by the rest of that packet.
//
// Pure functions; safe on any thread.
#pragma once

#include <gst/gst.h>

namespace rc::gateway {

// Whether bin holds a muxer that starts each track at 0 (the qtmux family: mp4mux, qtmux,
// ismlmux, 3gppmux, mj2mux). Non-fragmented files of these muxers do carry an edit list, but
// dating the first frame back does them no harm and keeps every mode alike.
bool startsEachTrackAtZero(GstElement *bin);

// The other way round, for a track whose first packet straddles the file's t=0: rewrites buffer
// (writable) so that its running time becomes base when it lies earlier than base by at most
// maxShift: PTS and DTS move forward, a valid duration shrinks by the difference. False
// (unchanged) otherwise.
bool dateForwardTo(
    GstBuffer *buffer, const GstSegment &segment, GstClockTime base, GstClockTime maxShift);

// Rewrites buffer (writable; the first of a video feed, in segment) so that its running time
// becomes base when it lies later than base: PTS and DTS move back by the difference and a
// valid duration grows by it. False (buffer unchanged) when it is not later than base or the
// segment cannot place it there.
bool dateBackTo(GstBuffer *buffer, const GstSegment &segment, GstClockTime base);

} // namespace rc::gateway
