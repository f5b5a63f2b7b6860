// sd_notify protocol of a daemon under a NOTIFY_SOCKET the test owns: READY, STATUS, WATCHDOG,
// RELOADING on SIGHUP, STOPPING on SIGTERM.
//
// The daemon is $ROOMCAST_SD_NOTIFY_TARGET (a command line, split on spaces),
// by default the sd-notify-probe built next to this test.
#include "common/base/gptr.h"
#include "common/ops/sd_notifier.h"

#include <catch2/catch.hpp>

#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct Message
{
    std::string text;
    gint64 atUs = 0;
    bool has(const std::string &assignment) const
    {
        // One assignment per line (sd_notify(3)).
        size_t pos = 0;
        while (pos <= text.size()) {
            auto end = text.find('\n', pos);
            if (text.substr(pos, end == std::string::npos ? std::string::npos : end - pos)
                == assignment)
                return true;
            if (end == std::string::npos)
                break;
            pos = end + 1;
        }
        return false;
    }
    bool startsWith(const std::string &prefix) const
    {
        return text.find(prefix) != std::string::npos;
    }
};

class NotifySocket
{
public:
    NotifySocket()
    {
        dir_ = rc::takeString(g_dir_make_tmp("roomcast-notify-XXXXXX", nullptr));
        REQUIRE(!dir_.empty());
        path_ = dir_ + "/notify.sock";
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un addr {};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    }
    ~NotifySocket()
    {
        close(fd_);
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }
    const std::string &path() const { return path_; }

    std::optional<Message> next(std::chrono::milliseconds timeout)
    {
        pollfd p { fd_, POLLIN, 0 };
        if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
            return std::nullopt;
        char buf[4096];
        const ssize_t n = recv(fd_, buf, sizeof buf, 0);
        if (n < 0)
            return std::nullopt;
        return Message { std::string(buf, static_cast<size_t>(n)), g_get_monotonic_time() };
    }

private:
    std::string dir_, path_;
    int fd_ = -1;
};

std::vector<std::string> targetCommand()
{
    if (const char *t = g_getenv("ROOMCAST_SD_NOTIFY_TARGET"); t && *t) {
        std::vector<std::string> argv;
        gchar **parts = g_strsplit(t, " ", -1);
        for (gchar **p = parts; *p; ++p)
            if (**p)
                argv.emplace_back(*p);
        g_strfreev(parts);
        return argv;
    }
    return { SD_NOTIFY_PROBE };
}

using Env = std::vector<std::pair<std::string, std::string>>;

class Daemon
{
public:
    explicit Daemon(const Env &env)
    {
        gchar **envp = g_get_environ();
        envp = g_environ_unsetenv(envp, "NOTIFY_SOCKET");
        envp = g_environ_unsetenv(envp, "WATCHDOG_USEC");
        envp = g_environ_unsetenv(envp, "WATCHDOG_PID");
        for (const auto &[k, v] : env)
            envp = g_environ_setenv(envp, k.c_str(), v.c_str(), TRUE);
        auto cmd = targetCommand();
        std::vector<char *> argv;
        for (auto &a : cmd)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        GError *error = nullptr;
        const gboolean ok = g_spawn_async(
            nullptr, argv.data(), envp, G_SPAWN_DO_NOT_REAP_CHILD, nullptr, nullptr, &pid_, &error);
        g_strfreev(envp);
        INFO((error ? error->message : ""));
        REQUIRE(ok);
    }
    Daemon(const Daemon &) = delete;
    Daemon &operator=(const Daemon &) = delete;
    ~Daemon()
    {
        if (pid_ > 0 && !exited_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    void signal(int signum) { kill(pid_, signum); }
    // Exit status, or nullopt if still running after timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout)
    {
        // The sanitizer pass (tests/sanitizers/run.sh) widens real-time allowances: a sanitized
        // gateway reloads (templates re-checked in a child) several times slower.
        const char *slack = g_getenv("ROOMCAST_TIMING_SLACK");
        if (slack && g_ascii_strtod(slack, nullptr) > 1.0)
            timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                timeout * g_ascii_strtod(slack, nullptr));
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                exited_ = true;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            g_usleep(10000);
        }
        return std::nullopt;
    }
    GPid pid() const { return pid_; }

private:
    GPid pid_ = 0;
    bool exited_ = false;
};

} // namespace

TEST_CASE(
    "READY, STATUS, WATCHDOG, RELOADING on SIGHUP, STOPPING on SIGTERM, in order", "[sd_notify]")
{
    NotifySocket sock;
    // 400 ms watchdog: pings every 200 ms.
    Daemon daemon(Env { { "NOTIFY_SOCKET", sock.path() }, { "WATCHDOG_USEC", "400000" } });
    std::vector<Message> log;
    auto waitFor = [&](const std::string &assignment,
                       std::chrono::milliseconds timeout) -> std::optional<size_t> {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto m = sock.next(std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now()));
            if (!m)
                break;
            log.push_back(*m);
            if (m->has(assignment) || (assignment.back() == '=' && m->startsWith(assignment)))
                return log.size() - 1;
        }
        return std::nullopt;
    };
    auto dump = [&] {
        std::string s;
        for (const auto &m : log)
            s += "[" + m.text + "] ";
        return s;
    };

    auto ready = waitFor("READY=1", 10s);
    INFO(dump());
    REQUIRE(ready);
    auto status = waitFor("STATUS=", 2s);
    REQUIRE(status);
    CHECK(*status > *ready);
    // roomcast's STATUS= carries its counts (SdNotifier::countsStatus).
    if (const char *want = g_getenv("ROOMCAST_SD_NOTIFY_STATUS"); want && *want)
        CHECK(log[*status].has(std::string("STATUS=") + want));

    // Periodic watchdog pings at about half of WATCHDOG_USEC.
    std::vector<gint64> pings;
    for (const auto &m : log)
        if (m.has("WATCHDOG=1"))
            pings.push_back(m.atUs);
    while (pings.size() < 5) {
        auto i = waitFor("WATCHDOG=1", 1s);
        REQUIRE(i);
        pings.push_back(log[*i].atUs);
    }
    for (size_t i = 1; i < pings.size(); ++i) {
        const gint64 gap = pings[i] - pings[i - 1];
        INFO("ping gap " << gap << " us");
        CHECK(gap < 400000); // inside the interval the watchdog allows
    }
    CHECK(pings.back() - pings[pings.size() - 4] > 300000); // periodic, not a burst

    daemon.signal(SIGHUP);
    auto reloading = waitFor("RELOADING=1", 3s);
    REQUIRE(reloading);
    CHECK(log[*reloading].startsWith("MONOTONIC_USEC="));
    auto readyAgain = waitFor("READY=1", 3s);
    REQUIRE(readyAgain);
    CHECK(*readyAgain > *reloading);

    daemon.signal(SIGTERM);
    auto stopping = waitFor("STOPPING=1", 5s);
    REQUIRE(stopping);
    CHECK(*stopping > *readyAgain);
    CHECK(daemon.wait(10s) == 0);

    // Order over the whole log: READY < RELOADING < READY < STOPPING, and no
    // READY after STOPPING.
    for (size_t i = *stopping + 1; i < log.size(); ++i)
        CHECK_FALSE(log[i].has("READY=1"));
}

TEST_CASE("without NOTIFY_SOCKET nothing is sent and the daemon still runs", "[sd_notify]")
{
    NotifySocket sock; // exists, but nobody is told about it
    Daemon daemon(Env { { "WATCHDOG_USEC", "100000" } });
    CHECK_FALSE(sock.next(400ms));
    CHECK_FALSE(daemon.wait(0ms)); // still running
    daemon.signal(SIGTERM);
    CHECK(daemon.wait(10s) == 0);
}

TEST_CASE("the watchdog honours WATCHDOG_PID and is off without WATCHDOG_USEC", "[sd_notify]")
{
    g_unsetenv("WATCHDOG_USEC");
    g_unsetenv("WATCHDOG_PID");
    CHECK_FALSE(rc::SdNotifier::watchdogInterval());
    g_setenv("WATCHDOG_USEC", "3000000", TRUE);
    CHECK(rc::SdNotifier::watchdogInterval() == std::chrono::microseconds(3000000));
    g_setenv("WATCHDOG_PID", "1", TRUE); // meant for another process
    CHECK_FALSE(rc::SdNotifier::watchdogInterval());
    g_setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), TRUE);
    CHECK(rc::SdNotifier::watchdogInterval());
    g_unsetenv("WATCHDOG_USEC");
    g_unsetenv("WATCHDOG_PID");

    CHECK(rc::SdNotifier::countsStatus(2, 5, 3) == "rooms=2 participants=5 outputs=3");
}
