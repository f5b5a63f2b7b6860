// Static file resolution and serving; see static_files.h.
#include "signaling/static_files.h"

#include "common/base/log.h"
#include "common/base/soup_ptr.h"
#include "signaling/log_text.h"

#include <glib/gstdio.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace rc::signaling {
namespace {

struct TypeByExtension
{
    const char *extension;
    const char *type;
};
constexpr TypeByExtension kTypes[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".htm", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".json", "application/json" },
    { ".map", "application/json" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".wasm", "application/wasm" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".jpg", "image/jpeg" },
    { ".jpeg", "image/jpeg" },
    { ".gif", "image/gif" },
    { ".webp", "image/webp" },
    { ".woff", "font/woff" },
    { ".woff2", "font/woff2" },
};

std::optional<std::string> canonical(const std::string &path)
{
    char *resolved = realpath(path.c_str(), nullptr);
    if (!resolved)
        return std::nullopt;
    std::string out(resolved);
    std::free(resolved);
    return out;
}

bool isDirectory(const std::string &path)
{
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
}

bool isRegularFile(const std::string &path)
{
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec);
}

void respondStatus(SoupServerMessage *msg, guint status)
{
    soup_server_message_set_status(msg, status, nullptr);
    const char *text = soup_status_get_phrase(status);
    soup_server_message_set_response(
        msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY, text, std::strlen(text));
}

} // namespace

StaticFiles::StaticFiles(const std::string &root)
    : root_(canonical(root).value_or(root))
{ }

const char *StaticFiles::contentTypeFor(std::string_view fileName) noexcept
{
    auto dot = fileName.rfind('.');
    if (dot == std::string_view::npos)
        return nullptr;
    std::string_view ext = fileName.substr(dot);
    for (const auto &t : kTypes)
        if (g_ascii_strncasecmp(ext.data(), t.extension, ext.size()) == 0
            && std::strlen(t.extension) == ext.size())
            return t.type;
    return nullptr;
}

std::optional<StaticFiles::File> StaticFiles::resolve(std::string_view encodedPath) const
{
    if (encodedPath.empty() || encodedPath.front() != '/')
        return std::nullopt;
    // Decoding refuses %00 and, with "/" as illegal, an encoded slash that
    // would smuggle a separator past the segment check below.
    GPtr<char> decoded(
        g_uri_unescape_segment(encodedPath.data(), encodedPath.data() + encodedPath.size(), "/"));
    if (!decoded)
        return std::nullopt;
    std::string path = root_;
    std::string_view rest(decoded.get());
    size_t pos = 0;
    while (pos <= rest.size()) {
        size_t slash = rest.find('/', pos);
        std::string_view segment = rest.substr(
            pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        pos = slash == std::string_view::npos ? rest.size() + 1 : slash + 1;
        if (segment.empty())
            continue;
        // ".", "..", and dot files (.git, .env) are never served.
        if (segment.front() == '.' || segment.find('\\') != std::string_view::npos)
            return std::nullopt;
        path += '/';
        path += segment;
    }
    if (isDirectory(path))
        path += "/index.html";
    auto real = canonical(path);
    if (!real || real->compare(0, root_.size() + 1, root_ + "/") != 0 || !isRegularFile(*real))
        return std::nullopt;
    const char *type = contentTypeFor(*real);
    if (!type)
        return std::nullopt;
    return File { *real, type };
}

void StaticFiles::handle(SoupServerMessage *msg) const
{
    const char *method = soup_server_message_get_method(msg);
    SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
    if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
        soup_message_headers_replace(headers, "Allow", "GET, HEAD");
        respondStatus(msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
        return;
    }
    GUri *uri = soup_server_message_get_uri(msg);
    const char *path = uri ? g_uri_get_path(uri) : nullptr;
    auto file = path ? resolve(path) : std::nullopt;
    if (!file) {
        RC_LOG_DEBUG("static: 404 %s", printable(path ? path : "").c_str());
        respondStatus(msg, SOUP_STATUS_NOT_FOUND);
        return;
    }
    GError *rawError = nullptr;
    GPtr<GMappedFile> mapped(g_mapped_file_new(file->path.c_str(), FALSE, &rawError));
    auto error = adopt(rawError);
    if (!mapped) {
        RC_LOG_WARN("static: cannot read %s: %s", file->path.c_str(), error->message);
        respondStatus(msg, SOUP_STATUS_NOT_FOUND);
        return;
    }
    auto bytes = adopt(g_mapped_file_get_bytes(mapped.get()));
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    soup_message_headers_replace(headers, "Content-Type", file->contentType);
    soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace(headers, "Cache-Control", "no-cache");
    soup_message_body_append_bytes(soup_server_message_get_response_body(msg), bytes.get());
}

} // namespace rc::signaling
