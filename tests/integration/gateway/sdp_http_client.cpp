// WHIP/WHEP test clients' HTTP and promise helpers; see sdp_http_client.h.
#include "sdp_http_client.h"

namespace rc::test {

GstStructure *callWebrtc(GstElement *webrtc, const char *signal, gpointer arg)
{
    GstPromise *promise = gst_promise_new();
    g_signal_emit_by_name(webrtc, signal, arg, promise);
    GstStructure *copy = nullptr;
    if (gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED && gst_promise_get_reply(promise))
        copy = gst_structure_copy(gst_promise_get_reply(promise));
    gst_promise_unref(promise);
    return copy;
}

guint sendSdpRequest(SoupSession *session, const char *method, const std::string &url,
    const std::string &token, const std::string &body, std::string &reply, std::string &location)
{
    SoupMessage *msg = soup_message_new(method, url.c_str());
    if (!msg)
        return 0;
    if (!token.empty())
        soup_message_headers_append(
            soup_message_get_request_headers(msg), "Authorization", ("Bearer " + token).c_str());
    if (!body.empty()) {
        GBytes *bytes = g_bytes_new(body.data(), body.size());
        soup_message_set_request_body_from_bytes(msg, "application/sdp", bytes);
        g_bytes_unref(bytes);
    }
    GError *error = nullptr;
    GBytes *out = soup_session_send_and_read(session, msg, nullptr, &error);
    const guint status = soup_message_get_status(msg);
    if (out) {
        gsize size = 0;
        const char *data = static_cast<const char *>(g_bytes_get_data(out, &size));
        reply.assign(data ? data : "", size);
        g_bytes_unref(out);
    } else {
        reply = error ? error->message : "?";
        g_clear_error(&error);
    }
    if (const char *l
        = soup_message_headers_get_one(soup_message_get_response_headers(msg), "Location"))
        location = l;
    g_object_unref(msg);
    return status;
}

std::string resolveLocation(const std::string &url, const std::string &location)
{
    if (location.rfind("http", 0) == 0)
        return location;
    const size_t scheme = url.find("://");
    const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return url.substr(0, path) + location;
}

} // namespace rc::test
