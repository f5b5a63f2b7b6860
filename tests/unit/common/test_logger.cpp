// Logger: a scope written once, in front of every line of its owner.
#include "common/base/log.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>

namespace {

// Captures what is written to stderr while it lives.
class StderrCapture
{
public:
    StderrCapture()
    {
        file_ = std::tmpfile();
        saved_ = ::dup(STDERR_FILENO);
        ::dup2(::fileno(file_), STDERR_FILENO);
    }
    ~StderrCapture()
    {
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        std::fclose(file_);
    }
    std::string text()
    {
        std::string out;
        std::rewind(file_);
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0)
            out.append(buf, n);
        return out;
    }

private:
    FILE *file_;
    int saved_;
};

} // namespace

TEST_CASE("a logger's scope and its children's prefix every line", "[log]")
{
    rc::log::setLevel(rc::log::Level::info);
    rc::log::Logger room = rc::log::Logger("gateway").child("room standup");
    rc::log::Logger peer = room.child("peer p1");
    CHECK(peer.scope() == "gateway: room standup: peer p1");
    StderrCapture capture;
    room.info("offering to %s", "p1");
    peer.warn("no media for %d s", 5);
    peer.debug("not shown at info");
    rc::log::Logger().error("bare");
    const std::string text = capture.text();
    CHECK(text.find(" info: gateway: room standup: offering to p1\n") != std::string::npos);
    CHECK(text.find(" warn: gateway: room standup: peer p1: no media for 5 s\n")
        != std::string::npos);
    CHECK(text.find("not shown") == std::string::npos);
    CHECK(text.find(" error: bare\n") != std::string::npos);
}
