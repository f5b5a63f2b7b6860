// The caps guard's decision and its pad probe; see caps_guard.h.
#include "gateway/media/caps_guard.h"

#include <array>
#include <string>
#include <string_view>

namespace rc::gateway {
namespace {

void deleteGuard(gpointer data) noexcept
{
    delete static_cast<std::shared_ptr<CapsGuard> *>(data);
}

// Video formats whose frames (H264/H265: SPS/PPS before each IDR; VP8/VP9/AV1: frame headers
// and sequence headers on keyframes) tell a decoder the new size by themselves.
constexpr std::array<std::string_view, 5> kInBandFormats { "video/x-h264", "video/x-h265",
    "video/x-vp8", "video/x-vp9", "video/x-av1" };

bool sameString(const GstStructure *a, const GstStructure *b, const char *field)
{
    const char *x = gst_structure_get_string(a, field);
    const char *y = gst_structure_get_string(b, field);
    if (!x || !y)
        return x == y;
    return g_str_equal(x, y);
}

std::string sizeText(const GstStructure *s)
{
    int w = 0, h = 0, n = 0, d = 1;
    gst_structure_get_int(s, "width", &w);
    gst_structure_get_int(s, "height", &h);
    gst_structure_get_fraction(s, "framerate", &n, &d);
    return std::to_string(w) + "x" + std::to_string(h) + "@" + std::to_string(n) + "/"
        + std::to_string(d);
}

} // namespace

CapsGuard::~CapsGuard()
{
    if (kept_)
        gst_caps_unref(kept_);
}

bool CapsGuard::describedInBand(const GstCaps *kept, const GstCaps *next) noexcept
{
    if (!kept || !next || gst_caps_get_size(kept) != 1 || gst_caps_get_size(next) != 1)
        return false;
    const GstStructure *a = gst_caps_get_structure(kept, 0);
    const GstStructure *b = gst_caps_get_structure(next, 0);
    const std::string_view name = gst_structure_get_name(a);
    if (name != gst_structure_get_name(b))
        return false;
    bool known = false;
    for (auto f : kInBandFormats)
        known = known || f == name;
    return known && sameString(a, b, "stream-format") && sameString(a, b, "alignment");
}

bool CapsGuard::admitCaps(GstCaps *caps) noexcept
{
    if (kept_ && gst_caps_is_equal(kept_, caps))
        return true;
    if (flowing_ && describedInBand(kept_, caps)) {
        const unsigned n = held_.fetch_add(1, std::memory_order_relaxed) + 1;
        log_.info("video caps changed mid-stream (%s, now %s): muxers keep the first caps, the "
                  "new parameters travel in-band (change %u)",
            gst_structure_get_name(gst_caps_get_structure(caps, 0)),
            sizeText(gst_caps_get_structure(caps, 0)).c_str(), n);
        return false;
    }
    if (flowing_ && kept_) {
        gchar *from = gst_caps_to_string(kept_);
        gchar *to = gst_caps_to_string(caps);
        log_.warn("caps change the muxers may refuse: %s -> %s", from, to);
        g_free(from);
        g_free(to);
    }
    gst_caps_replace(&kept_, caps);
    return true;
}

GstPadProbeReturn CapsGuard::probe(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    CapsGuard *guard = static_cast<std::shared_ptr<CapsGuard> *>(data)->get();
    if (info->type & (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST)) {
        guard->dataFlowed();
        return GST_PAD_PROBE_OK;
    }
    if (!(info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM))
        return GST_PAD_PROBE_OK;
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (!event || GST_EVENT_TYPE(event) != GST_EVENT_CAPS)
        return GST_PAD_PROBE_OK;
    GstCaps *caps = nullptr;
    gst_event_parse_caps(event, &caps);
    if (guard->admitCaps(caps))
        return GST_PAD_PROBE_OK;
    // Replaced, not dropped: a sticky event a probe drops is sent again before every buffer;
    // one that goes through (with the caps downstream already has) counts as sent.
    gst_event_unref(event);
    GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_caps(guard->kept());
    return GST_PAD_PROBE_OK;
}

gulong CapsGuard::install(GstPad *pad, std::shared_ptr<CapsGuard> guard)
{
    return gst_pad_add_probe(pad,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST
            | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
        probe, new std::shared_ptr<CapsGuard>(std::move(guard)), deleteGuard);
}

} // namespace rc::gateway
