// RAII deleters for GStreamer, WebRTC and libnice types (see gptr.h for adopt/ref/refSink).
// Header-only, so the GStreamer-free room server does not depend on GStreamer.
#pragma once

#include "common/base/gptr.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

namespace rc {

// GstObject subclasses: ref-sink absorbs the floating reference of fresh elements.
#define RC_GST_OBJECT_DELETER(T)                                                                   \
    template <> struct GDeleter<T>                                                                 \
    {                                                                                              \
        void operator()(T *p) const noexcept { gst_object_unref(p); }                              \
        static T *ref(T *p) noexcept { return static_cast<T *>(gst_object_ref(p)); }               \
        static T *refSink(T *p) noexcept { return static_cast<T *>(gst_object_ref_sink(p)); }      \
    };

RC_GST_OBJECT_DELETER(GstObject)
RC_GST_OBJECT_DELETER(GstElement)
RC_GST_OBJECT_DELETER(GstPipeline)
RC_GST_OBJECT_DELETER(GstBin)
RC_GST_OBJECT_DELETER(GstPad)
RC_GST_OBJECT_DELETER(GstBus)
RC_GST_OBJECT_DELETER(GstClock)
RC_GST_OBJECT_DELETER(GstPadTemplate)
RC_GST_OBJECT_DELETER(GstWebRTCRTPTransceiver)
RC_GST_OBJECT_DELETER(GstWebRTCRTPReceiver)
RC_GST_OBJECT_DELETER(GstWebRTCICETransport)

// Mini objects and boxed types.
RC_DELETER(GstCaps, gst_caps_unref)
RC_DELETER(GstBuffer, gst_buffer_unref)
RC_DELETER(GstSample, gst_sample_unref)
RC_DELETER(GstMessage, gst_message_unref)
RC_DELETER(GstEvent, gst_event_unref)
RC_DELETER(GstQuery, gst_query_unref)
RC_DELETER(GstStructure, gst_structure_free)
RC_DELETER(GstPromise, gst_promise_unref)
RC_DELETER(GstSDPMessage, gst_sdp_message_free)
RC_DELETER(GstWebRTCSessionDescription, gst_webrtc_session_description_free)
RC_DELETER(GstIterator, gst_iterator_free)

} // namespace rc
