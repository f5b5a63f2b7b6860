// Tests of URL redaction: what the API, logs and webhooks may show of an output's URL.
#include "common/base/url_redaction.h"

#include <catch2/catch.hpp>

using rc::redactUrl;

TEST_CASE("URLs are redacted for display", "[url]")
{
    CHECK(redactUrl("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl")
        == "rtmp://a.rtmp.youtube.com/live2/***");
    CHECK(redactUrl("rtmps://user:pass@host:443/app/key?token=1#f")
        == "rtmps://***@host:443/app/***?***#***");
    CHECK(redactUrl("rtmp://host/app") == "rtmp://host/app");
    CHECK(redactUrl("rtmp://host") == "rtmp://host");
    CHECK(redactUrl("rtmp://[::1]:1935/live/k") == "rtmp://[::1]:1935/live/***");
    CHECK(redactUrl("not a url") == "***");
    CHECK(redactUrl("/local/path") == "***");
}

TEST_CASE("a redacted URL never carries the key, the credentials or the query", "[url]")
{
    const std::string shown = redactUrl("RTMP://bob:hunter2@host/app/sk_live_123?auth=tok");
    CHECK(shown == "rtmp://***@host/app/***?***");
    CHECK(shown.find("hunter2") == std::string::npos);
    CHECK(shown.find("sk_live_123") == std::string::npos);
    CHECK(shown.find("tok") == std::string::npos);
    CHECK(redactUrl("") == "***");
}
