// Atomic latest.jpg (temporary file, fsync, rename) and the numbered series; see snapshot_writer.h.
#include "gateway/output/snapshot_writer.h"
#include "common/base/file_component.h"

#include "common/base/log.h"
#include "common/gst/gst_ptr.h"

#include <gst/app/gstappsink.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace rc::gateway {
namespace {

rc::log::Logger &logger()
{
    static rc::log::Logger log("snapshot");
    return log;
}

std::string numbered(const std::string &dir, uint64_t n)
{
    char name[32];
    std::snprintf(name, sizeof name, "/%06llu.jpg", static_cast<unsigned long long>(n));
    return dir + name;
}

bool writeAll(int fd, const uint8_t *data, size_t size)
{
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// The appsink's callbacks run on its streaming thread; nothing may throw out of them.
GstFlowReturn onNewSample(GstAppSink *sink, gpointer data) noexcept
{
    auto *writer = static_cast<SnapshotWriter *>(data);
    GstSample *raw = gst_app_sink_pull_sample(sink);
    if (!raw)
        return GST_FLOW_EOS;
    GPtr<GstSample> sample = adopt(raw);
    GstBuffer *buffer = gst_sample_get_buffer(sample.get());
    GstMapInfo map;
    if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ))
        return GST_FLOW_OK;
    std::string why;
    try {
        if (!writer->write(map.data, map.size, why))
            logger().warn("%s not replaced: %s", writer->latestPath().c_str(), why.c_str());
    } catch (...) {
        // std::string allocation only; a lost picture is not worth a crash.
    }
    gst_buffer_unmap(buffer, &map);
    // A failed write (a full disk) skips this picture; the next one tries again.
    return GST_FLOW_OK;
}

void deleteWriter(gpointer data) noexcept
{
    delete static_cast<SnapshotWriter *>(data);
}

// videorate (1.22) takes a frame whose timestamp repeats the previous one's as "the old frame is
// the best match" and pushes it again at the next slot, one whole interval later: a run of equal
// timestamps, which a CPU-starved jitterbuffer hands out in bursts, sends its output minutes
// ahead of the stream, and then it drops everything until the stream catches up (no snapshot
// for that long). Decoded frames can be dropped freely, so a frame whose timestamp does not
// move forward never reaches it. Runs on the streaming thread; lastPts is that thread's alone.
struct MonotonicFrames
{
    GstClockTime lastPts = GST_CLOCK_TIME_NONE;
};

GstPadProbeReturn dropRepeatedTimestamps(GstPad *, GstPadProbeInfo *info, gpointer data) noexcept
{
    auto *state = static_cast<MonotonicFrames *>(data);
    const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
    if (!GST_CLOCK_TIME_IS_VALID(pts)
        || (GST_CLOCK_TIME_IS_VALID(state->lastPts) && pts <= state->lastPts))
        return GST_PAD_PROBE_DROP;
    state->lastPts = pts;
    return GST_PAD_PROBE_OK;
}

} // namespace

SnapshotWriter::SnapshotWriter(std::string dir, unsigned keep)
    : dir_(std::move(dir))
    , latest_(dir_ + "/" + kLatestName)
    , keep_(keep)
{ }

bool SnapshotWriter::write(const uint8_t *data, size_t size, std::string &why)
{
    // Same folder as latest.jpg: rename() is atomic only within one file system. The dot
    // keeps it out of "*.jpg" globs of readers.
    std::string tmp = dir_ + "/.latest.jpg.XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0) {
        why = std::string("cannot create a temporary file: ") + std::strerror(errno);
        failing_ = true;
        return false;
    }
    const bool ok = ::fchmod(fd, 0640) == 0 && writeAll(fd, data, size) && ::fsync(fd) == 0;
    const int savedErrno = errno;
    if (::close(fd) != 0 || !ok || ::rename(tmp.c_str(), latest_.c_str()) != 0) {
        why = std::strerror(ok ? errno : savedErrno);
        ::unlink(tmp.c_str());
        failing_ = true;
        return false;
    }
    ++written_;
    if (failing_) {
        logger().info("%s written again", latest_.c_str());
        failing_ = false;
    }
    if (keep_ > 0) {
        // A second name for the same inode: the series costs no copy.
        const std::string name = numbered(dir_, written_);
        ::unlink(name.c_str()); // a leftover of an earlier run of this output
        if (::link(latest_.c_str(), name.c_str()) != 0)
            logger().warn("cannot keep %s: %s", name.c_str(), std::strerror(errno));
        if (written_ > keep_)
            ::unlink(numbered(dir_, written_ - keep_).c_str());
    }
    return true;
}

unsigned snapshotKeep(const std::map<std::string, std::string> &params)
{
    auto it = params.find("keep");
    return it == params.end()
        ? 0u
        : static_cast<unsigned>(std::strtoul(it->second.c_str(), nullptr, 10));
}

bool attachSnapshotWriter(GstElement *bin, SnapshotTarget &target, std::string &error)
{
    target.latest.clear();
    GPtr<GstElement> sink = adopt(gst_bin_get_by_name(GST_BIN(bin), "snapshot"));
    if (!sink)
        return true;
    GPtr<GstObject> parent = adopt(gst_object_get_parent(GST_OBJECT(sink.get())));
    if (parent.get() != GST_OBJECT(bin) || !GST_IS_APP_SINK(sink.get())) {
        error = "the element named 'snapshot' must be an appsink at the top level of the "
                "description";
        return false;
    }
    if (target.dir.empty()) {
        error = "no folder for the snapshots";
        return false;
    }
    if (!makeDirectories(target.dir, error))
        return false;
    if (GPtr<GstElement> rate = adopt(gst_bin_get_by_name(GST_BIN(bin), "rate"))) {
        GPtr<GstPad> in = adopt(gst_element_get_static_pad(rate.get(), "sink"));
        if (in)
            gst_pad_add_probe(in.get(), GST_PAD_PROBE_TYPE_BUFFER, dropRepeatedTimestamps,
                new MonotonicFrames, [](gpointer p) { delete static_cast<MonotonicFrames *>(p); });
    }
    auto *writer = new SnapshotWriter(target.dir, target.keep);
    target.latest = writer->latestPath();
    GstAppSinkCallbacks callbacks {};
    callbacks.new_sample = onNewSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, writer, deleteWriter);
    return true;
}

} // namespace rc::gateway
