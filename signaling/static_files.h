// Serves a web client's files from one directory on "/": GET and HEAD only, no way out of the
// directory.
//
// Owned by the RoomServer; thread-bound to its GMainContext (resolve() and
// contentTypeFor() are pure and safe anywhere).
#pragma once

#include <libsoup/soup.h>

#include <optional>
#include <string>
#include <string_view>

namespace rc::signaling {

class StaticFiles
{
public:
    // root: an existing directory (made canonical here).
    explicit StaticFiles(const std::string &root);

    struct File
    {
        std::string path; // canonical, inside root
        const char *contentType; // from the file's extension
    };

    // Maps a request path as sent (percent-encoded) to a file under root:
    // "/" and directories mean their index.html. Refuses "..", dot files,
    // encoded slashes or NULs, symlinks leading outside root, and extensions
    // without a known content type.
    std::optional<File> resolve(std::string_view encodedPath) const;

    // The Content-Type for a file name, or nullptr when the extension is not
    // one we serve.
    static const char *contentTypeFor(std::string_view fileName) noexcept;

    // Answers one request (libsoup server callback context).
    void handle(SoupServerMessage *msg) const;

    const std::string &root() const noexcept { return root_; }

private:
    std::string root_;
};

} // namespace rc::signaling
