// Tests of bus message parsing: ERROR and WARNING become owned text with their source.
#include "common/gst/bus_message.h"
#include "common/gst/gst_ptr.h"

#include <catch2/catch.hpp>

namespace {

rc::GPtr<GstElement> namedElement(const char *name)
{
    gst_init(nullptr, nullptr);
    GstElement *bin = gst_bin_new("outer");
    GstElement *child = gst_bin_new(name);
    gst_bin_add(GST_BIN(bin), child);
    return rc::GPtr<GstElement>(static_cast<GstElement *>(gst_object_ref_sink(bin)));
}

} // namespace

TEST_CASE("an ERROR message gives its text, debug detail and source", "[bus]")
{
    auto bin = namedElement("sink7");
    GstElement *child = gst_bin_get_by_name(GST_BIN(bin.get()), "sink7");
    rc::GPtr<GstElement> owned(child);
    GError *error = g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE, "disk full");
    rc::GPtr<GstMessage> message(
        gst_message_new_error(GST_OBJECT(child), error, "gstfilesink.c(42): no space"));
    g_error_free(error);

    auto problem = rc::readBusProblem(message.get());
    REQUIRE(problem);
    CHECK(problem->isError);
    CHECK(problem->message == "disk full");
    CHECK(problem->debug == "gstfilesink.c(42): no space");
    CHECK(problem->sourceName == "sink7");
    CHECK(problem->sourcePath == "/GstBin:outer/GstBin:sink7");
    CHECK(problem->describe() == "/GstBin:outer/GstBin:sink7: disk full");
    // What a handler tells faults apart by (output_fault).
    CHECK(problem->domain == GST_RESOURCE_ERROR);
    CHECK(problem->code == GST_RESOURCE_ERROR_WRITE);
}

TEST_CASE("a WARNING without a GError message gets the fallback", "[bus]")
{
    auto bin = namedElement("src1");
    rc::GPtr<GstMessage> message(gst_message_new_warning(GST_OBJECT(bin.get()), nullptr, nullptr));
    auto problem = rc::readBusProblem(message.get(), "unknown");
    REQUIRE(problem);
    CHECK_FALSE(problem->isError);
    CHECK(problem->message == "unknown");
    CHECK(problem->debug.empty());
    CHECK(problem->sourceName == "outer");
    CHECK(problem->domain == 0);
    CHECK(problem->code == 0);
}

TEST_CASE("other messages are not problems", "[bus]")
{
    auto bin = namedElement("x");
    rc::GPtr<GstMessage> eos(gst_message_new_eos(GST_OBJECT(bin.get())));
    CHECK_FALSE(rc::readBusProblem(eos.get()));
    CHECK_FALSE(rc::readBusProblem(nullptr));
}
