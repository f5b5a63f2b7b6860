// The control API's CORS answers (see CorsPolicy): headers for an allowed origin on every
// answer, and preflights; moved as is out of control_api.cpp.
#include "gateway/ops/control_api.h"

namespace rc::ops {

void ControlApi::applyCors(SoupServerMessage *msg)
{
    if (!cors_.enabled())
        return;
    SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
    // Caches must not serve one origin's answer to another.
    soup_message_headers_append(response, "Vary", "Origin");
    const char *origin
        = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Origin");
    if (!origin || !cors_.allows(origin))
        return;
    soup_message_headers_replace(response, "Access-Control-Allow-Origin", origin);
    soup_message_headers_replace(
        response, "Access-Control-Expose-Headers", CorsPolicy::exposeHeaders);
}

void ControlApi::answerPreflight(SoupServerMessage *msg)
{
    SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
    // applyCors (early) set Allow-Origin when the origin is allowed: only then the rest.
    if (soup_message_headers_get_one(response, "Access-Control-Allow-Origin")) {
        soup_message_headers_replace(
            response, "Access-Control-Allow-Methods", CorsPolicy::allowMethods);
        soup_message_headers_replace(
            response, "Access-Control-Allow-Headers", CorsPolicy::allowHeaders);
        soup_message_headers_replace(response, "Access-Control-Max-Age", CorsPolicy::maxAgeSeconds);
    }
    soup_message_headers_replace(response, "Allow", CorsPolicy::allowMethods);
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
    countResponse(SOUP_STATUS_NO_CONTENT);
}

} // namespace rc::ops
