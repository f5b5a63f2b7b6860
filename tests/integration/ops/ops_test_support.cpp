// Loop, HTTP client and raw TCP client for the operations tests; see ops_test_support.h.
#include "ops_test_support.h"

#include "common/base/json.h"
#include "common/base/main_context.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>

namespace rc::test {

Loop::Loop()
    : ctx_(adopt(g_main_context_new()))
{
    g_main_context_push_thread_default(ctx_.get());
}

Loop::~Loop()
{
    // Let pending idles (and their destroy notifies) run before the context goes.
    for (int i = 0; i < 50 && g_main_context_iteration(ctx_.get(), FALSE); ++i) { }
    g_main_context_pop_thread_default(ctx_.get());
}

bool Loop::until(const std::function<bool()> &pred, std::chrono::milliseconds timeout)
{
    return iterateUntil(ctx_.get(), pred, timeout);
}

void Loop::runFor(std::chrono::milliseconds duration)
{
    iterateUntil(
        ctx_.get(), [] { return false; }, duration);
}

GPtr<JsonNode> HttpResponse::json() const
{
    std::string error;
    return json::parse(body, error);
}

std::string HttpResponse::header(const std::string &lowerName) const
{
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(Loop &loop)
    : loop_(loop)
    , session_(adopt(soup_session_new()))
{ }

namespace {
struct Exchange
{
    bool done = false;
    HttpResponse response;
    GPtr<SoupMessage> msg;
};
} // namespace

HttpResponse HttpClient::request(const std::string &method, const std::string &url,
    const std::string &body, const std::vector<std::pair<std::string, std::string>> &headers,
    std::chrono::milliseconds timeout)
{
    auto ex = std::make_shared<Exchange>();
    ex->msg = adopt(soup_message_new(method.c_str(), url.c_str()));
    if (!ex->msg) {
        HttpResponse r;
        r.error = "bad URL";
        return r;
    }
    for (const auto &[k, v] : headers)
        soup_message_headers_replace(
            soup_message_get_request_headers(ex->msg.get()), k.c_str(), v.c_str());
    if (!body.empty() || method == "POST") {
        auto bytes = adopt(g_bytes_new(body.data(), body.size()));
        // Copied: setting the body replaces the header the pointer points into.
        const char *given = soup_message_headers_get_one(
            soup_message_get_request_headers(ex->msg.get()), "Content-Type");
        const std::string type = given ? given : "application/json";
        soup_message_set_request_body_from_bytes(ex->msg.get(), type.c_str(), bytes.get());
    }
    auto cancel = adopt(g_cancellable_new());
    auto *keep = new std::shared_ptr<Exchange>(ex);
    soup_session_send_and_read_async(
        session_.get(), ex->msg.get(), G_PRIORITY_DEFAULT, cancel.get(),
        [](GObject *source, GAsyncResult *result, gpointer data) {
            std::unique_ptr<std::shared_ptr<Exchange>> holder(
                static_cast<std::shared_ptr<Exchange> *>(data));
            Exchange &e = **holder;
            GError *error = nullptr;
            GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
            if (error) {
                e.response.error = error->message;
                g_error_free(error);
            } else {
                e.response.status = soup_message_get_status(e.msg.get());
                gsize size = 0;
                const auto *p = static_cast<const char *>(g_bytes_get_data(bytes, &size));
                e.response.body.assign(p ? p : "", size);
                g_bytes_unref(bytes);
                SoupMessageHeadersIter iter;
                soup_message_headers_iter_init(
                    &iter, soup_message_get_response_headers(e.msg.get()));
                const char *name = nullptr, *value = nullptr;
                while (soup_message_headers_iter_next(&iter, &name, &value))
                    e.response.headers[takeString(g_ascii_strdown(name, -1))] = value;
            }
            e.done = true;
        },
        keep);
    if (!loop_.until([&] { return ex->done; }, timeout)) {
        g_cancellable_cancel(cancel.get());
        loop_.until([&] { return ex->done; }, 2s);
        HttpResponse r;
        r.error = "timeout";
        return r;
    }
    return ex->response;
}

std::string rawExchange(uint16_t port, const std::string &bytes,
    std::chrono::milliseconds readTimeout, bool closeAfterSend)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return "socket failed";
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        close(fd);
        return "connect failed";
    }
    size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; // the server may refuse early and close: read what it said
        sent += static_cast<size_t>(n);
    }
    std::string out;
    if (closeAfterSend) {
        close(fd);
        return out;
    }
    const auto deadline = std::chrono::steady_clock::now() + readTimeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p { fd, POLLIN, 0 };
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0)
            break;
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        out.append(buf, static_cast<size_t>(n));
        // Stop after one complete response with Content-Length.
        auto headerEnd = out.find("\r\n\r\n");
        if (headerEnd != std::string::npos) {
            auto cl = out.find("Content-Length: ");
            if (cl != std::string::npos && cl < headerEnd) {
                const size_t length = std::stoul(out.substr(cl + 16));
                if (out.size() >= headerEnd + 4 + length)
                    break;
            }
        }
    }
    close(fd);
    return out;
}

std::string onThread(Loop &loop, std::function<std::string()> fn, std::chrono::milliseconds timeout)
{
    auto future = std::async(std::launch::async, std::move(fn));
    loop.until([&] { return future.wait_for(0s) == std::future_status::ready; }, timeout);
    return future.get();
}

int rawStatus(const std::string &response)
{
    if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12)
        return 0;
    return std::atoi(response.substr(9, 3).c_str());
}

} // namespace rc::test
