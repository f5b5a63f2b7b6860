// The control API's error vocabulary: an HTTP status, a stable machine code and a message.
//
// Plain values, safe on any thread.
#pragma once

#include <libsoup/soup.h>

#include <string>

namespace rc::ops {

struct ApiError
{
    guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
    std::string code; // stable, snake_case: "not_found", "conflict", ...
    std::string message; // for humans

    static ApiError badRequest(std::string message, std::string code = "bad_request")
    {
        return { SOUP_STATUS_BAD_REQUEST, std::move(code), std::move(message) };
    }
    static ApiError unauthorized(std::string message)
    {
        return { SOUP_STATUS_UNAUTHORIZED, "unauthorized", std::move(message) };
    }
    static ApiError notFound(std::string message, std::string code = "not_found")
    {
        return { SOUP_STATUS_NOT_FOUND, std::move(code), std::move(message) };
    }
    static ApiError methodNotAllowed(std::string message)
    {
        return { SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", std::move(message) };
    }
    static ApiError conflict(std::string message, std::string code = "conflict")
    {
        return { SOUP_STATUS_CONFLICT, std::move(code), std::move(message) };
    }
    static ApiError tooLarge(std::string message)
    {
        return { SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body_too_large", std::move(message) };
    }
    static ApiError unavailable(std::string message, std::string code = "unavailable")
    {
        return { SOUP_STATUS_SERVICE_UNAVAILABLE, std::move(code), std::move(message) };
    }
    static ApiError internal(std::string message)
    {
        return { SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", std::move(message) };
    }
};

} // namespace rc::ops
