// The liveness token every main-context object hands to callbacks that may outlive it, and the
// "release from a later dispatch" idiom (the thread rule in docs/architecture.md).
//
// WeakSelf is a member of its owner T and thread-bound to T's main context: it is created and
// destroyed there. Its Ref is a plain value that any thread may copy and keep; lock() and the
// functions a posted call runs are only meaningful on the owner's context, where T lives and
// dies. So a GStreamer or libsoup thread never touches T: it copies what it needs, posts, and
// the post finds T gone or alive when it runs.
#pragma once

#include "common/base/main_context.h"

#include <functional>
#include <memory>
#include <utility>

namespace rc {

template <typename T> class WeakSelf
{
public:
    // A weak reference to T; copyable, storable, safe to copy on any thread.
    class Ref
    {
    public:
        Ref() = default;
        // T if it still lives; call only on T's main context.
        T *lock() const noexcept
        {
            auto token = token_.lock();
            return token ? *token : nullptr;
        }
        // Runs fn(T&) on ctx from a later dispatch if T still lives then. Any thread.
        void post(
            GMainContext *ctx, std::function<void(T &)> fn, int priority = G_PRIORITY_DEFAULT) const
        {
            rc::post(
                ctx,
                [ref = *this, fn = std::move(fn)] {
                    if (T *self = ref.lock())
                        fn(*self);
                },
                priority);
        }

    private:
        friend class WeakSelf;
        explicit Ref(std::weak_ptr<T *> token)
            : token_(std::move(token))
        { }
        std::weak_ptr<T *> token_;
    };

    explicit WeakSelf(T *self)
        : token_(std::make_shared<T *>(self))
    { }
    // Every Ref sees nullptr from here on, also while T's destructor still runs.
    ~WeakSelf() { *token_ = nullptr; }
    WeakSelf(const WeakSelf &) = delete;
    WeakSelf &operator=(const WeakSelf &) = delete;

    Ref ref() const { return Ref(token_); }
    void post(
        GMainContext *ctx, std::function<void(T &)> fn, int priority = G_PRIORITY_DEFAULT) const
    {
        ref().post(ctx, std::move(fn), priority);
    }
    // Cuts every Ref early (first thing in T's destructor, before members that callbacks
    // would reach are destroyed).
    void invalidate() noexcept { *token_ = nullptr; }

private:
    std::shared_ptr<T *> token_;
};

// Destroys value from a later dispatch on ctx rather than now: for an object whose own
// callback is running (a timer, a GStreamer bin whose message is being handled) and must not
// be freed under it. Call on ctx's thread.
template <typename V> void releaseLater(GMainContext *ctx, V value)
{
    auto holder = std::make_shared<V>(std::move(value));
    post(ctx, [holder]() mutable { holder.reset(); });
}

} // namespace rc
