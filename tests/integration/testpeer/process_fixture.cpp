// Child processes, log files and the loopback-only namespace for process-level tests; see
// process_fixture.h.
#include "process_fixture.h"

#include "common/base/main_context.h"

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace rc::test {
namespace {

std::vector<std::string> ownCommandLine()
{
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::vector<std::string> args;
    std::string arg;
    while (std::getline(in, arg, '\0'))
        args.push_back(arg);
    return args;
}

int spawnAndWait(const std::vector<std::string> &argv, const std::vector<std::string> &extraEnv)
{
    std::vector<char *> cargv;
    for (const auto &a : argv)
        cargv.push_back(const_cast<char *>(a.c_str()));
    cargv.push_back(nullptr);
    char **env = g_get_environ();
    for (const auto &kv : extraEnv) {
        auto eq = kv.find('=');
        env = g_environ_setenv(env, kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), TRUE);
    }
    gint status = 0;
    GError *raw = nullptr;
    gboolean ok = g_spawn_sync(nullptr, cargv.data(), env,
        static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN), nullptr,
        nullptr, nullptr, nullptr, &status, &raw);
    g_strfreev(env);
    auto error = adopt(raw);
    if (!ok)
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void onChildExited(GObject *source, GAsyncResult *result, gpointer data) noexcept
{
    auto *child = static_cast<Child *>(data);
    g_subprocess_wait_finish(G_SUBPROCESS(source), result, nullptr);
    GSubprocess *p = G_SUBPROCESS(source);
    child->exitStatus = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p)
                                                      : 128 + g_subprocess_get_term_sig(p);
    child->exited = true;
}

} // namespace

std::optional<int> runInLoopbackNamespace(const char *envFlag)
{
    if (std::getenv(envFlag)) {
        // Inside: bring loopback up, the namespace's only interface.
        if (spawnAndWait({ "ip", "link", "set", "lo", "up" }, {}) != 0)
            return 1;
        return std::nullopt;
    }
    GPtr<char> unshare(g_find_program_in_path("unshare"));
    GPtr<char> ip(g_find_program_in_path("ip"));
    if (geteuid() != 0 || !unshare || !ip) {
        g_printerr("SKIP: needs root, unshare and ip for a loopback-only network namespace\n");
        return 77;
    }
    GPtr<char> self(g_file_read_link("/proc/self/exe", nullptr));
    if (!self)
        return 1;
    std::vector<std::string> argv { "unshare", "-n", "--", self.get() };
    auto own = ownCommandLine();
    for (size_t i = 1; i < own.size(); ++i)
        argv.push_back(own[i]);
    return spawnAndWait(argv, { std::string(envFlag) + "=1" });
}

std::string Child::log() const
{
    std::ifstream in(logPath);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

ProcessFixture::ProcessFixture(const std::string &name)
    : context_(g_main_context_new())
{
    g_main_context_push_thread_default(context_.get());
    const char *artifacts = std::getenv("ROOMCAST_ARTIFACTS_DIR");
    if (artifacts && *artifacts) {
        logDir_ = std::string(artifacts) + "/" + name;
        g_mkdir_with_parents(logDir_.c_str(), 0755);
    } else {
        GPtr<char> dir(g_dir_make_tmp((name + "-XXXXXX").c_str(), nullptr));
        logDir_ = dir ? dir.get() : "/tmp";
    }
}

ProcessFixture::~ProcessFixture()
{
    for (auto &c : children_) {
        if (!c->exited && c->process)
            g_subprocess_force_exit(G_SUBPROCESS(c->process.get()));
    }
    waitFor(
        [this] {
            for (auto &c : children_)
                if (!c->exited && c->process)
                    return false;
            return true;
        },
        std::chrono::seconds(5));
    children_.clear();
    g_main_context_pop_thread_default(context_.get());
}

Child &ProcessFixture::spawn(const std::string &name, const std::vector<std::string> &argv)
{
    auto child = std::make_unique<Child>();
    child->name = name;
    child->logPath = logDir_ + "/" + name + ".log";
    // GLib opens the stdout file without truncating it: a log left by an earlier run in the
    // same artifacts folder would otherwise show its old lines (and its old port) first.
    ::unlink(child->logPath.c_str());
    std::unique_ptr<GSubprocessLauncher, void (*)(gpointer)> launcher(
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE), g_object_unref);
    g_subprocess_launcher_set_stdout_file_path(launcher.get(), child->logPath.c_str());
    std::vector<const char *> cargv;
    for (const auto &a : argv)
        cargv.push_back(a.c_str());
    cargv.push_back(nullptr);
    GError *raw = nullptr;
    GSubprocess *p = g_subprocess_launcher_spawnv(launcher.get(), cargv.data(), &raw);
    auto error = adopt(raw);
    if (p) {
        child->process.reset(G_OBJECT(p));
        g_subprocess_wait_async(p, nullptr, onChildExited, child.get());
    } else {
        child->exited = true;
        child->exitStatus = 127;
        std::ofstream(child->logPath) << "spawn failed: " << (error ? error->message : "?") << "\n";
    }
    children_.push_back(std::move(child));
    return *children_.back();
}

bool ProcessFixture::waitFor(const std::function<bool()> &pred, std::chrono::milliseconds timeout)
{
    return iterateUntil(context_.get(), pred, timeout);
}

bool ProcessFixture::waitExit(Child &child, std::chrono::milliseconds timeout)
{
    return waitFor([&child] { return child.exited; }, timeout);
}

void ProcessFixture::terminate(Child &child)
{
    if (!child.exited && child.process)
        g_subprocess_send_signal(G_SUBPROCESS(child.process.get()), SIGTERM);
}

std::string ProcessFixture::allLogs() const
{
    std::string all;
    for (const auto &c : children_)
        all += "----- " + c->name + " (exit " + std::to_string(c->exitStatus) + ")\n" + c->log();
    return all;
}

std::string firstMatch(const std::string &text, const std::string &pattern)
{
    std::smatch m;
    std::regex re(pattern);
    if (std::regex_search(text, m, re) && m.size() > 1)
        return m[1].str();
    return {};
}

} // namespace rc::test
