// One thread's share of a benchmark level; see load_shard.h.
#include "load_shard.h"

#include "bench_clock.h"
#include "common/base/log.h"
#include "common/base/main_context.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace rc::bench {
namespace {

std::chrono::milliseconds msUntil(uint64_t deadlineNs)
{
    const uint64_t now = monotonicNs();
    return std::chrono::milliseconds(deadlineNs > now ? (deadlineNs - now + 999999) / 1000000 : 0);
}

} // namespace

void ShardCounters::add(const ShardCounters &o)
{
    sentInWindow += o.sentInWindow;
    receivedInWindow += o.receivedInWindow;
    deliveredOfWindow += o.deliveredOfWindow;
    pacerSkipped += o.pacerSkipped;
    rateLimited += o.rateLimited;
    unexpectedCloses += o.unexpectedCloses;
    for (const auto &[code, count] : o.otherErrors)
        otherErrors[code] += count;
}

LoadShard::LoadShard(unsigned shard, const LoadOptions &options, const Layout &layout)
    : shard_(shard)
    , options_(options)
    , layout_(layout)
{ }

LoadShard::~LoadShard()
{
    pacer_.reset();
    members_.clear();
}

bool LoadShard::setUp()
{
    ctx_ = adopt(g_main_context_new());
    g_main_context_push_thread_default(ctx_.get());

    byIndex_.assign(layout_.memberCount(), nullptr);
    for (uint32_t i = 0; i < layout_.memberCount(); ++i) {
        if (layout_.shardOf[i] != shard_)
            continue;
        members_.push_back(std::make_unique<BenchMember>(
            i, options_.roomPrefix + "-" + std::to_string(layout_.roomOf[i]), *this));
        byIndex_[i] = members_.back().get();
        if (i < layout_.senders)
            senders_.push_back(i);
    }
    perSenderWindow_ = std::max(1u, options_.window / layout_.senders);
    rate_ = options_.rate * double(senders_.size()) / double(layout_.senders);

    // libsoup counts a WebSocket against the session's connection limits until
    // the upgrade completes; the defaults (10, 2 per host) would serialise set-up.
    if (!options_.soupClient) {
        poller_ = std::make_unique<signaling::FdPoller>(ctx_.get());
        // main() accepted only ws://127.0.0.1:PORT/PATH.
        GUri *uri = g_uri_parse(options_.url.c_str(), G_URI_FLAGS_NONE, nullptr);
        port_ = uri ? static_cast<uint16_t>(g_uri_get_port(uri)) : 0;
        path_ = uri && *g_uri_get_path(uri) ? g_uri_get_path(uri) : "/";
        if (uri)
            g_uri_unref(uri);
    }
    session_ = adopt(
        soup_session_new_with_options("max-conns", 8192, "max-conns-per-host", 8192, nullptr));
    if (!options_.deflate)
        soup_session_remove_feature_by_type(session_.get(), SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);

    startConnects();
    const auto timeout = std::chrono::milliseconds(
        static_cast<int64_t>(std::llround(options_.setupTimeoutS * 1000)));
    const bool ready = iterateUntil(
        ctx_.get(), [&] { return welcomed_ == members_.size() || !setupError_.empty(); }, timeout);
    if (setupError_.empty() && !ready)
        setupError_ = "shard " + std::to_string(shard_)
            + ": set-up timed out: " + std::to_string(welcomed_) + " of "
            + std::to_string(members_.size()) + " members welcomed";
    if (!setupError_.empty())
        return false;
    for (auto &member : members_)
        member->setTarget(byIndex_[layout_.targetOf[member->index()]]->id());
    return true;
}

void LoadShard::startConnects()
{
    // The budget is shared by the shards: the server's listen backlog (GLib's
    // default is 10) overflows under a burst of handshakes, and dropped SYNs
    // are retried only after 1, 3, 7... seconds.
    const unsigned budget = std::max(1u, options_.connectConcurrency / layout_.shards);
    while (connecting_ < budget && nextToConnect_ < members_.size()) {
        ++connecting_;
        auto &member = members_[nextToConnect_++];
        if (poller_)
            member->connectRaw(*poller_, port_, path_);
        else
            member->connect(session_.get(), options_.url);
    }
}

void LoadShard::onConnected(BenchMember &member, const std::string &error)
{
    --connecting_;
    if (!error.empty() && setupError_.empty())
        setupError_ = "member " + std::to_string(member.index()) + ": " + error;
    if (setupError_.empty())
        startConnects();
}

void LoadShard::onWelcome(BenchMember &)
{
    ++welcomed_;
}

void LoadShard::onServerError(BenchMember &member, const std::string &code)
{
    if (!loadStarted_) {
        if (setupError_.empty())
            setupError_ = "member " + std::to_string(member.index()) + ": server error " + code;
        return;
    }
    if (code == "rate-limited")
        ++counters_.rateLimited;
    else
        ++counters_.otherErrors[code];
}

void LoadShard::onClosed(BenchMember &member)
{
    if (tearingDown_)
        return;
    ++counters_.unexpectedCloses;
    if (!loadStarted_ && setupError_.empty())
        setupError_ = "member " + std::to_string(member.index()) + ": closed by the server";
}

void LoadShard::runUntil(uint64_t deadlineNs)
{
    const auto wait = msUntil(deadlineNs);
    if (wait.count() == 0)
        return;
    auto loop = adopt(g_main_loop_new(ctx_.get(), FALSE));
    GMainLoop *raw = loop.get();
    auto timer = addTimeout(ctx_.get(), wait, [raw] {
        g_main_loop_quit(raw);
        return false;
    });
    g_main_loop_run(raw);
}

void LoadShard::sendOne(uint32_t sender)
{
    const uint64_t now = monotonicNs();
    if (now >= schedule_.windowStartNs && now < schedule_.windowEndNs)
        ++counters_.sentInWindow;
    byIndex_[sender]->sendStamped(now);
}

void LoadShard::onTick()
{
    const uint64_t now = monotonicNs();
    if (now < schedule_.startNs || senders_.empty())
        return;
    const auto due = static_cast<uint64_t>(double(now - schedule_.startNs) * rate_ / 1e9);
    if (due <= paced_)
        return;
    uint64_t count = due - paced_;
    // GLib timers tick at best every millisecond, so a few sends go out per
    // tick. Falling further behind than 5 ms means the client cannot offer the
    // rate: skip (and count) the debt rather than burst it.
    const auto cap = std::max<uint64_t>(1, static_cast<uint64_t>(rate_ * 0.005));
    if (count > cap) {
        if (now >= schedule_.windowStartNs && now < schedule_.windowEndNs)
            counters_.pacerSkipped += count - cap;
        count = cap;
    }
    paced_ = due;
    for (uint64_t i = 0; i < count; ++i) {
        sendOne(senders_[nextSender_]);
        nextSender_ = (nextSender_ + 1) % senders_.size();
    }
}

void LoadShard::onStamped(BenchMember &, uint32_t src, uint64_t sentNs, uint64_t receivedNs)
{
    if (src >= layout_.senders || !byIndex_[src])
        return;
    if (sentNs >= schedule_.windowStartNs && sentNs < schedule_.windowEndNs) {
        ++counters_.deliveredOfWindow;
        latency_.add(receivedNs - sentNs);
    }
    if (receivedNs >= schedule_.windowStartNs && receivedNs < schedule_.windowEndNs)
        ++counters_.receivedInWindow;
    if (options_.mode == LoadMode::closed && sending_)
        sendOne(src);
}

void LoadShard::load(const Schedule &schedule)
{
    schedule_ = schedule;
    loadStarted_ = true;
    const double windowS = double(schedule.windowEndNs - schedule.windowStartNs) / 1e9;
    const double expected = options_.mode == LoadMode::open ? rate_ * windowS * 1.5 : 2e6;
    latency_.reserve(static_cast<size_t>(std::min(expected, 2e7)));

    runUntil(schedule.startNs);
    sending_ = true;
    if (options_.mode == LoadMode::open) {
        pacer_ = addTimeout(ctx_.get(), std::chrono::milliseconds(1), [this] {
            onTick();
            return true;
        });
    } else {
        for (unsigned k = 0; k < perSenderWindow_; ++k)
            for (uint32_t s : senders_)
                sendOne(s);
    }
    runUntil(schedule.windowEndNs);
    sending_ = false;
    pacer_.reset();
    iterateUntil(
        ctx_.get(), [this] { return counters_.deliveredOfWindow >= counters_.sentInWindow; },
        msUntil(schedule.drainEndNs));
}

void LoadShard::tearDown()
{
    if (!ctx_)
        return;
    tearingDown_ = true;
    pacer_.reset();
    for (auto &member : members_)
        member->close();
    iterateUntil(
        ctx_.get(),
        [this] {
            return std::all_of(members_.begin(), members_.end(),
                [](const auto &m) { return m->isClosed() || !m->hasConnection(); });
        },
        std::chrono::milliseconds(3000));
    members_.clear();
    poller_.reset();
    session_.reset();
    // Let libsoup finish what the close started before the context goes.
    while (g_main_context_iteration(ctx_.get(), FALSE)) { }
    g_main_context_pop_thread_default(ctx_.get());
    ctx_.reset();
}

} // namespace rc::bench
