// Crash safety: a recording killed with SIGKILL stays readable and loses at most about a second.
#include "gateway/templates/pipeline_template.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <sstream>
#include <sys/wait.h>
#include <thread>

using namespace rc::gateway;
using Clock = std::chrono::steady_clock;

namespace {

// Highest packet time in the file, per ffprobe; -1 if it cannot be read.
double lastPacketTime(const std::string &path)
{
    std::string out;
    if (!rc::test::runCommand({ "ffprobe", "-v", "error", "-show_entries", "packet=pts_time", "-of",
                                  "csv=p=0", path },
            out))
        return -1;
    double last = -1;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line != "N/A")
            last = std::max(last, std::atof(line.c_str()));
    }
    return last;
}

void killAndCheck(const std::string &templateName, const std::string &videoCodec)
{
    INFO(templateName);
    const char *helper = std::getenv("TEMPLATE_FEED_HELPER");
    REQUIRE(helper);
    rc::test::TempDir dir;
    std::string tplPath = rc::test::sourcePipelinesDir() + "/" + templateName + ".pipeline";
    std::string ext = loadTemplate(tplPath).extension;
    std::string out = dir / ("p1." + ext);

    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        execl(helper, helper, tplPath.c_str(), out.c_str(), videoCodec.c_str(),
            static_cast<char *>(nullptr));
        _exit(127);
    }
    // The clock starts when the file appears (filesink opens it as the pipeline starts).
    auto deadline = Clock::now() + std::chrono::seconds(10);
    std::error_code ec;
    while (!std::filesystem::exists(out, ec) && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto started = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    int status = 0;
    bool stillRunning = waitpid(pid, &status, WNOHANG) == 0;
    ::kill(pid, SIGKILL);
    double killedAfter = std::chrono::duration<double>(Clock::now() - started).count();
    waitpid(pid, &status, 0);
    REQUIRE(stillRunning);
    REQUIRE(WIFSIGNALED(status));

    double last = lastPacketTime(out);
    INFO("killed after " << killedAfter << " s, last packet at " << last << " s");
    CHECK(last >= killedAfter - 1.5);
    std::string discovered;
    CHECK(rc::test::runCommand({ "gst-discoverer-1.0", out }, discovered));
}

} // namespace

TEST_CASE("record-mkv survives kill -9", "[crash][mkv]")
{
    killAndCheck("record-mkv", "VP8");
}
TEST_CASE("record-webm survives kill -9", "[crash][webm]")
{
    killAndCheck("record-webm", "VP8");
}
TEST_CASE("record-mp4 survives kill -9", "[crash][mp4]")
{
    killAndCheck("record-mp4", "H264");
}
