// Tests of the bounded permessage-deflate inflater: round trips, fragments, bombs, bad data.
#include "signaling/message_inflater.h"

#include <catch2/catch.hpp>

#include <zlib.h>

using namespace rc::signaling;
using Result = MessageInflater::Result;

namespace {

// Raw DEFLATE of text ending with a final block (BFINAL=1), as some compressors send it.
std::string deflateFinished(const std::string &text)
{
    z_stream z {};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, text.size()) + 16, '\0');
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
}

} // namespace

TEST_CASE("a compressed message inflates back, whole or in fragments", "[deflate]")
{
    const std::string text = R"({"type":"offer","to":"p2","sdp":")" + std::string(20000, 'v')
        + "a=candidate:1 1 udp 1 127.0.0.1 9 typ host" + R"("})";
    const std::string packed = compressMessage(text);
    REQUIRE(!packed.empty());
    CHECK(packed.size() < text.size() / 20);

    MessageInflater inflater(65536);
    SECTION("one frame")
    {
        REQUIRE(inflater.feed(packed, true) == Result::done);
        CHECK(inflater.take() == text);
    }
    SECTION("one byte per frame")
    {
        for (size_t i = 0; i + 1 < packed.size(); ++i)
            REQUIRE(inflater.feed(packed.substr(i, 1), false) == Result::more);
        REQUIRE(inflater.feed(packed.substr(packed.size() - 1), true) == Result::done);
        CHECK(inflater.take() == text);
    }
    SECTION("messages one after another need no state between them")
    {
        for (int i = 0; i < 3; ++i) {
            const std::string m = "message " + std::to_string(i) + std::string(300, 'z');
            REQUIRE(inflater.feed(compressMessage(m), true) == Result::done);
            CHECK(inflater.take() == m);
        }
    }
    SECTION("a stream ended with a final block")
    {
        REQUIRE(inflater.feed(deflateFinished(text), true) == Result::done);
        CHECK(inflater.take() == text);
    }
}

TEST_CASE("exactly the limit passes; one byte more is too large", "[deflate]")
{
    MessageInflater inflater(1000);
    REQUIRE(inflater.feed(compressMessage(std::string(1000, 'a')), true) == Result::done);
    CHECK(inflater.take().size() == 1000);
    CHECK(inflater.feed(compressMessage(std::string(1001, 'a')), true) == Result::tooLarge);
    // The next message starts clean.
    REQUIRE(inflater.feed(compressMessage("ok"), true) == Result::done);
    CHECK(inflater.take() == "ok");
}

TEST_CASE("a compression bomb stops one byte past the limit", "[deflate][bomb]")
{
    // 64 MiB of zeros deflate to about 64 KiB; inflating all of it is what a bomb wants.
    const std::string bomb = compressMessage(std::string(64u << 20, '\0'));
    REQUIRE(bomb.size() < (200u << 10));
    MessageInflater inflater(65536);
    SECTION("in one frame")
    {
        CHECK(inflater.feed(bomb, false) == Result::tooLarge);
        CHECK(inflater.produced() == 65537);
        // Later frames of that message are not inflated at all.
        CHECK(inflater.feed(bomb, false) == Result::tooLarge);
        CHECK(inflater.produced() == 65537);
        CHECK(inflater.feed(bomb, true) == Result::tooLarge);
        CHECK(inflater.produced() == 0);
    }
    SECTION("in many small frames")
    {
        Result r = Result::more;
        size_t frames = 0;
        for (size_t i = 0; i < bomb.size() && r == Result::more; i += 512, ++frames)
            r = inflater.feed(bomb.substr(i, 512), false);
        CHECK(r == Result::tooLarge);
        CHECK(frames < 10); // stopped early: ~64 KiB of output come from a few hundred bytes
    }
}

TEST_CASE("data that is not DEFLATE is refused", "[deflate]")
{
    MessageInflater inflater(65536);
    CHECK(inflater.feed(std::string("\xff\xff\xff\xff\xff\xff", 6), true) == Result::corrupt);
    REQUIRE(inflater.feed(compressMessage("fine"), true) == Result::done);
    CHECK(inflater.take() == "fine");
}
