// One pipeline-template instance recording one participant: feeds, common time base, EOS and
// finalize bookkeeping.
//
// Owned by the PeerReceiver whose pipeline holds its bin; thread-bound to the
// gateway's main context. The probes on its feeds run on streaming threads
// and share only a Timing block (mutex + atomics) with it; they reach the
// main context through a post holding its weak reference (self_).
#pragma once

#include "common/base/log.h"
#include "common/base/weak_self.h"
#include "common/gst/gst_ptr.h"
#include "gateway/media/media_kind.h"
#include "gateway/output/output_fault.h"
#include "gateway/templates/pipeline_template.h"
#include "gateway/templates/template_variables.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace rc::gateway {

class ParticipantOutput
{
public:
    // Called on the main context when the first buffer reached the output.
    using StartedCallback
        = std::function<void(std::chrono::system_clock::time_point firstBufferAt)>;

    // Instantiates tpl with its resolved params, writing to outputPath;
    // nullptr with error on failure.
    static std::unique_ptr<ParticipantOutput> create(GMainContext *context,
        const PipelineTemplate &tpl, const TemplateVariables &vars,
        const std::map<std::string, std::string> &params, const std::string &outputPath,
        std::string &error);
    static std::unique_ptr<ParticipantOutput> create(GMainContext *context,
        const PipelineTemplate &tpl, const TemplateVariables &vars, const std::string &outputPath,
        std::string &error)
    {
        return create(context, tpl, vars, {}, outputPath, error);
    }
    ~ParticipantOutput();
    ParticipantOutput(const ParticipantOutput &) = delete;
    ParticipantOutput &operator=(const ParticipantOutput &) = delete;

    const PipelineTemplate &pipelineTemplate() const noexcept { return tpl_; }
    const std::string &outputPath() const noexcept { return outputPath_; }
    // The room session's output this instance belongs to (e.g. "record-mkv-1").
    const std::string &outputId() const noexcept { return outputId_; }
    void setOutputId(std::string id) { outputId_ = std::move(id); }
    // A network output (the template has a url parameter): an error inside
    // its bin ends this instance only, and the room session retries it.
    bool network() const noexcept { return !url_.empty(); }
    // The URL it publishes to (a secret: log it redacted).
    const std::string &url() const noexcept { return url_; }
    // An ERROR posted from inside this instance's bin (read by the receiver's bus watch): for a
    // file output, a sink that could not write is a disk fault (see output_fault.h).
    void noteError(GstMessage *message);
    OutputFault fault() const noexcept { return fault_; }
    // The template's entry for kind is a queue (record-* templates): it gives the entry a thread
    // of its own, so the tee branch feeding it needs no queue (see StreamChain::addBranch).
    bool entryQueues(MediaKind kind) const noexcept { return entry(kind).queues; }
    // The src pad feeding kind's entry (a tee branch's end), nullptr if none.
    GstPad *feedSource(MediaKind kind) const noexcept { return entry(kind).src.get(); }
    // Bytes that went in so far (a network output's "sent").
    uint64_t bytesIn() const noexcept;
    GstElement *bin() const noexcept { return bin_.get(); }
    void setOnStarted(StartedCallback cb) { onStarted_ = std::move(cb); }

    // True when the template has an entry for kind, accepts codec, and that
    // entry is not fed yet.
    bool takes(MediaKind kind, const std::string &codec) const;
    // Links src (an unlinked src pad in the same pipeline) to the entry for
    // kind, with the timing/drop probe on src.
    bool connectFeed(MediaKind kind, GstPad *src, const std::string &codec, std::string &error);
    // The codec the answer says will arrive for kind ("" = none): an entry
    // that will never be fed gets EOS at once, or its muxer would wait for it
    // forever and write nothing. A codec the template does not take disables
    // the whole output (it never starts, so its file is removed).
    void expectCodec(MediaKind kind, const std::string &codec);
    const std::string &codec(MediaKind kind) const noexcept;
    // The participant sends a codec this template does not take: the instance
    // never gets data (and is not worth retrying).
    bool disabled() const noexcept { return disabled_; }
    // An entry still unfed this long after the first buffer reached the
    // output gets EOS: the muxer would otherwise hold everything back
    // waiting for it (a sender that never sends one of its tracks).
    void endStarvedEntries(std::chrono::milliseconds grace);

    // Stops taking data and sends EOS into every entry (from GStreamer's
    // thread pool: an entry's stream lock may be held by a buffer waiting in
    // the muxer for the other entry).
    void beginFinalize();
    // A paused file output drops everything that comes until resumed; its time base stays, so
    // the file's timeline keeps the paused span as a hole (one file, one timeline). Video
    // resumes at a keyframe, asked for at once. For file outputs only (the caller checks).
    void setPaused(bool paused);
    bool paused() const noexcept;

    // Stops taking data without EOS (the instance is being detached).
    void stopFeeding() noexcept;
    bool finalizing() const noexcept;
    // The pipeline's bus saw EOS from this output's bin: everything is written.
    void markEos() noexcept { eos_ = true; }
    bool eosReached() const noexcept { return eos_; }

    bool started() const noexcept;
    // Time from the first to the last buffer end that went in, in seconds.
    double durationSeconds() const;
    // The output file's current size (0 if none).
    uint64_t fileBytes() const;

private:
    struct Timing;
    struct FeedProbe;
    static GstPadProbeReturn feedProbe(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept;
    static void deleteFeedProbe(gpointer data) noexcept;
    struct Entry
    {
        GPtr<GstPad> pad; // the bin's ghost sink pad, nullptr if the template has none
        GPtr<GstPad> src; // what feeds it (set by connectFeed)
        bool queues = false; // the pad's target belongs to a queue
        bool fed = false;
        bool ended = false;
        std::string codec;
    };
    ParticipantOutput(
        GMainContext *context, PipelineTemplate tpl, GPtr<GstElement> bin, std::string outputPath);
    Entry &entry(MediaKind kind) noexcept { return kind == MediaKind::video ? video_ : audio_; }
    const Entry &entry(MediaKind kind) const noexcept
    {
        return kind == MediaKind::video ? video_ : audio_;
    }
    void sendEos(Entry &e);
    void onFirstBuffer(std::chrono::system_clock::time_point at);

    GMainContext *context_; // borrowed: the gateway's, outlives every output
    PipelineTemplate tpl_;
    GPtr<GstElement> bin_;
    std::string outputPath_;
    std::string outputId_;
    std::string url_;
    Entry video_, audio_;
    std::shared_ptr<Timing> timing_;
    StartedCallback onStarted_;
    gint64 startedAtUs_ = 0; // main-context copy of the first buffer's arrival
    bool disabled_ = false;
    bool eos_ = false;
    OutputFault fault_ = OutputFault::other;
    rc::log::Logger log_ { "gateway" };
    rc::WeakSelf<ParticipantOutput> self_ { this }; // last: cut first
};

} // namespace rc::gateway
