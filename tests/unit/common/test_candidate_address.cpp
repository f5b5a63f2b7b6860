// Tests of the IP-literal candidate filter: host names (mDNS or DNS) are never handed to ICE.
#include "common/protocol/candidate_address.h"

#include <catch2/catch.hpp>

using namespace rc::protocol;

TEST_CASE("the connection address is the fifth field of a candidate", "[candidate]")
{
    CHECK(candidateAddress("candidate:1 1 UDP 2122260223 127.0.0.1 54321 typ host") == "127.0.0.1");
    CHECK(candidateAddress("a=candidate:1 1 udp 2122260223 ::1 5000 typ host\r") == "::1");
    CHECK(candidateAddress("candidate:2 1 udp 2113937151 "
                           "0b6d2f1c-7f3e-4c1a-9d9e-7a3c7f2e1b4a.local 50000 typ host")
        == "0b6d2f1c-7f3e-4c1a-9d9e-7a3c7f2e1b4a.local");
    CHECK(candidateAddress("candidate:1 1 UDP 2122260223") == "");
    CHECK(candidateAddress("not a candidate 1 2 3 4 5") == "");
    CHECK(candidateAddress("") == "");
}

TEST_CASE("only IP literals pass: mDNS and DNS names do not", "[candidate]")
{
    CHECK(candidateHasIpAddress("candidate:1 1 UDP 2122260223 127.0.0.1 54321 typ host"));
    CHECK(candidateHasIpAddress("candidate:1 1 UDP 2122260223 fe80::1 54321 typ host"));
    CHECK_FALSE(candidateHasIpAddress("candidate:2 1 udp 2113937151 abc.local 50000 typ host"));
    CHECK_FALSE(candidateHasIpAddress("candidate:2 1 udp 1 stun.example.org 3478 typ srflx"));
    CHECK_FALSE(candidateHasIpAddress("candidate:2 1 udp 1"));
}

TEST_CASE("an SDP loses its host-name candidates and keeps everything else", "[candidate]")
{
    const std::string sdp = "v=0\r\n"
                            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                            "a=candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host\r\n"
                            "a=candidate:2 1 udp 2122260223 x1.local 40001 typ host\r\n"
                            "a=mid:0\r\n"
                            "a=candidate:3 1 udp 1 relay.example.org 3478 typ relay\r\n";
    int removed = -1;
    const std::string out = withoutHostnameCandidates(sdp, &removed);
    CHECK(removed == 2);
    CHECK(out
        == "v=0\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
           "a=candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host\r\n"
           "a=mid:0\r\n");
    CHECK(withoutHostnameCandidates("v=0\n", &removed) == "v=0\n");
    CHECK(removed == 0);
}
