// The outgoing queue accounting of the spec's "Readers keep up": frame sizes, the cheap bound,
// what the kernel's count may and may not do to it.
#include "signaling/room_server_config.h"
#include "signaling/send_budget.h"

#include <catch2/catch.hpp>

using rc::signaling::SendBudget;

TEST_CASE("a server frame is its payload plus a 2, 4 or 10 byte header")
{
    CHECK(SendBudget::frameBytes(0) == 2);
    CHECK(SendBudget::frameBytes(125) == 127);
    CHECK(SendBudget::frameBytes(126) == 130);
    CHECK(SendBudget::frameBytes(65535) == 65539);
    CHECK(SendBudget::frameBytes(65536) == 65546);
}

TEST_CASE("the cheap bound admits up to the limit exactly, then needs the kernel's count")
{
    SendBudget b(1000);
    CHECK(b.fits(1000));
    CHECK_FALSE(b.fits(1001));
    b.handed(600);
    CHECK(b.queued() == 600);
    CHECK(b.fits(400));
    CHECK_FALSE(b.fits(401));
    // The kernel took 500 of the 600 bytes: 100 wait.
    b.drained(500);
    CHECK(b.queued() == 100);
    CHECK(b.fits(900));
    CHECK_FALSE(b.fits(901));
    b.handed(900);
    CHECK(b.queued() == 1000);
    CHECK(b.handedTotal() == 1500);
}

TEST_CASE("a reader that stalls is judged by what is still queued, not by what was sent")
{
    // 2 MiB sent over the connection's life to a reader that keeps up is fine...
    SendBudget b(1 << 20);
    const uint64_t frame = SendBudget::frameBytes(60000);
    uint64_t kernel = 0;
    for (int i = 0; i < 40; ++i) {
        if (!b.fits(frame))
            b.drained(kernel);
        REQUIRE(b.fits(frame));
        b.handed(frame);
        kernel += frame; // the kernel takes every frame at once
    }
    // ...then the reader stops: the kernel takes nothing more.
    int admitted = 0;
    while (true) {
        if (!b.fits(frame))
            b.drained(kernel);
        if (!b.fits(frame))
            break;
        b.handed(frame);
        ++admitted;
    }
    CHECK(admitted == static_cast<int>((1 << 20) / frame));
    CHECK(b.queued() <= (1u << 20));
}

TEST_CASE("the kernel's count never makes the queue look longer or negative")
{
    SendBudget b(1000);
    b.handed(300);
    b.drained(200);
    CHECK(b.queued() == 100);
    // A stale or failed query after a better one: ignored.
    b.drained(50);
    CHECK(b.queued() == 100);
    // libsoup's own pings and pongs reach the kernel too: never more than was handed.
    b.drained(5000);
    CHECK(b.queued() == 0);
    b.handed(10);
    CHECK(b.queued() == 10);
}

TEST_CASE("the smallest configurable limit holds the largest forwarded message")
{
    // 65536 bytes of JSON plus "from" and "hidden" added by the server.
    SendBudget b(rc::signaling::kMinQueuedBytes);
    CHECK(b.fits(SendBudget::frameBytes(65536 + 200)));
}
