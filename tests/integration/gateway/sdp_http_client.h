// What the WHIP publisher and the WHEP viewers of the tests share: waiting on a webrtcbin
// promise, one SDP request over HTTP (POST an offer, DELETE a session), and resolving the
// session's Location. Test programs only; blocking calls on the caller's thread.
#pragma once

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <string>

namespace rc::test {

// Emits signal (with arg, or nullptr) and a new promise on webrtc and waits for its reply: a
// copy the caller frees, or nullptr when there was none.
GstStructure *callWebrtc(GstElement *webrtc, const char *signal, gpointer arg);

// One request: body (if any) as application/sdp, token (if any) as a Bearer token. Returns the
// HTTP status (0 when the request could not be made); reply gets the body, or the transport
// error's text; location gets the Location header when there is one.
guint sendSdpRequest(SoupSession *session, const char *method, const std::string &url,
    const std::string &token, const std::string &body, std::string &reply, std::string &location);

// The Location (a path, as the gateway gives it) resolved against the POST's URL.
std::string resolveLocation(const std::string &url, const std::string &location);

} // namespace rc::test
