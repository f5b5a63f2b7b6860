// Test support for the operations integration tests: a private main loop, an async HTTP client and
// a raw TCP client.
//
// Thread-bound to the test's thread, except rawExchange (any thread).
#pragma once

#include "common/base/gptr.h"
#include "common/base/soup_ptr.h"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rc::test {

using namespace std::chrono_literals;

// A private GMainContext, pushed as the thread default for the test's lifetime.
class Loop
{
public:
    Loop();
    ~Loop();
    Loop(const Loop &) = delete;
    Loop &operator=(const Loop &) = delete;

    GMainContext *context() const noexcept { return ctx_.get(); }
    // Iterates until pred holds; false when the timeout (the watchdog) passed first.
    bool until(const std::function<bool()> &pred, std::chrono::milliseconds timeout = 5s);
    void runFor(std::chrono::milliseconds duration);

private:
    GPtr<GMainContext> ctx_;
};

struct HttpResponse
{
    guint status = 0; // 0: no answer (transport error or timeout)
    std::string error; // transport error
    std::string body;
    std::map<std::string, std::string> headers; // lower-case names
    GPtr<JsonNode> json() const; // parsed body, or null
    std::string header(const std::string &lowerName) const;
};

// An HTTP client on the loop's context (libsoup, async under the hood).
class HttpClient
{
public:
    explicit HttpClient(Loop &loop);
    HttpResponse request(const std::string &method, const std::string &url,
        const std::string &body = {},
        const std::vector<std::pair<std::string, std::string>> &headers = {},
        std::chrono::milliseconds timeout = 5s);

private:
    Loop &loop_;
    GPtr<SoupSession> session_;
};

// Sends bytes over a new TCP connection to 127.0.0.1:port (blocking; run it
// on a thread while the loop iterates), then reads until the peer closes, a
// full response with Content-Length has arrived, or readTimeout passes.
// closeAfterSend: close right after sending without reading (a client that leaves).
std::string rawExchange(uint16_t port, const std::string &bytes,
    std::chrono::milliseconds readTimeout, bool closeAfterSend = false);

// Runs fn on a thread while the loop iterates; returns fn's result.
std::string onThread(
    Loop &loop, std::function<std::string()> fn, std::chrono::milliseconds timeout = 10s);

// The status code of a raw HTTP/1.1 response ("HTTP/1.1 413 ..."), or 0.
int rawStatus(const std::string &response);

} // namespace rc::test
