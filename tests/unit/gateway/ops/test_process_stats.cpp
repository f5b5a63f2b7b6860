// /proc parsing for the process_* metrics.
#include "gateway/ops/process_stats.h"

#include <catch2/catch.hpp>

using namespace rc::ops;

TEST_CASE("stat lines parse after the last parenthesis", "[process]")
{
    // A command name with spaces and parentheses: parsing must start after the LAST ')'.
    const std::string stat
        = "4242 (evil) name (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 7 0 "
          "123456 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
    auto s = parseProcStat(stat, 100);
    REQUIRE(s);
    CHECK(s->cpuSeconds == Approx(3.0)); // (250 + 50) / 100
    CHECK(s->threads == 7);
    CHECK(s->startTicks == 123456);
    CHECK(s->virtualBytes == 987654321);
    CHECK(s->residentPages == 2048);

    CHECK_FALSE(parseProcStat("garbage", 100));
    CHECK_FALSE(parseProcStat("1 (x) S 1 2 3", 100));
    CHECK_FALSE(parseProcStat(stat, 0));
}

TEST_CASE("boot time comes from the btime line", "[process]")
{
    CHECK(parseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n") == 1700000000u);
    CHECK_FALSE(parseBootTime("cpu 1 2 3\n"));
    CHECK_FALSE(parseBootTime("btime x\n"));
}

TEST_CASE("this process's stats are readable", "[process]")
{
    auto s = readProcessStats();
    REQUIRE(s);
    CHECK(s->residentBytes > 0);
    CHECK(s->threads >= 1);
    CHECK(s->openFds >= 3);
    CHECK(s->startTimeSeconds > 1600000000);
}
