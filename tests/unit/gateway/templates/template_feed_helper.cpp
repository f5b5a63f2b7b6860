// Child process for the crash-safety test: records live test streams through a template until
// killed.
//
// Usage: template-feed-helper TEMPLATE_FILE OUTPUT_PATH VIDEO_CODEC
#include "media_feed.h"

#include <cstdio>

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s TEMPLATE_FILE OUTPUT_PATH VIDEO_CODEC\n", argv[0]);
        return 64;
    }
    try {
        auto tpl = rc::gateway::loadTemplate(argv[1]);
        std::string error;
        auto pipeline = rc::test::buildFeedPipeline(tpl, argv[2], argv[3], true, 0, error);
        if (!pipeline) {
            std::fprintf(stderr, "%s\n", error.c_str());
            return 70;
        }
        gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
        rc::GPtr<GstBus> bus = rc::adopt(gst_element_get_bus(pipeline.get()));
        rc::GPtr<GstMessage> msg = rc::adopt(gst_bus_timed_pop_filtered(bus.get(),
            GST_CLOCK_TIME_NONE, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS)));
        std::fprintf(stderr, "unexpected end of the pipeline\n");
        gst_element_set_state(pipeline.get(), GST_STATE_NULL);
        return 70;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 78;
    }
}
