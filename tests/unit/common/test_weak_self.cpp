// WeakSelf and releaseLater: posted calls reach a living owner, skip a dead one, and values
// are destroyed from a later dispatch.
#include "common/base/weak_self.h"

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;

namespace {

struct Owner
{
    int calls = 0;
    rc::WeakSelf<Owner> self { this };
};

struct Counted
{
    int *destroyed;
    explicit Counted(int *d)
        : destroyed(d)
    { }
    Counted(Counted &&o) noexcept
        : destroyed(std::exchange(o.destroyed, nullptr))
    { }
    ~Counted()
    {
        if (destroyed)
            ++*destroyed;
    }
};

struct Context
{
    GMainContext *ctx = g_main_context_new();
    Context() { g_main_context_push_thread_default(ctx); }
    ~Context()
    {
        g_main_context_pop_thread_default(ctx);
        g_main_context_unref(ctx);
    }
    void drain()
    {
        while (g_main_context_iteration(ctx, FALSE)) { }
    }
};

} // namespace

TEST_CASE("a post runs on the owner while it lives", "[weak-self]")
{
    Context c;
    Owner owner;
    owner.self.post(c.ctx, [](Owner &o) { ++o.calls; });
    CHECK(owner.calls == 0); // never inline
    c.drain();
    CHECK(owner.calls == 1);
}

TEST_CASE("a post made before the owner died does nothing", "[weak-self]")
{
    Context c;
    int ran = 0;
    rc::WeakSelf<Owner>::Ref ref;
    {
        Owner owner;
        ref = owner.self.ref();
        ref.post(c.ctx, [&ran](Owner &) { ++ran; });
        CHECK(ref.lock() == &owner);
    }
    CHECK(ref.lock() == nullptr);
    c.drain();
    CHECK(ran == 0);
}

TEST_CASE("invalidate cuts references before the owner is gone", "[weak-self]")
{
    Owner owner;
    auto ref = owner.self.ref();
    owner.self.invalidate();
    CHECK(ref.lock() == nullptr);
}

TEST_CASE("releaseLater destroys the value from a later dispatch", "[weak-self]")
{
    Context c;
    int destroyed = 0;
    rc::releaseLater(c.ctx, Counted(&destroyed));
    CHECK(destroyed == 0);
    c.drain();
    CHECK(destroyed == 1);
}
