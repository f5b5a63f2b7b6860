// The session manifest (manifest.json): who was there, which files, on one session clock; written
// atomically.
//
// Owned by one room session; thread-bound to the gateway's main context.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rc::gateway {

class Manifest
{
public:
    Manifest(
        std::string path, std::string room, std::chrono::system_clock::time_point sessionStart);

    // Each mutator updates the document and then writes it (see write());
    // a failed write is logged and kept in lastError(), never thrown.
    // source: where the participant comes from, "room" (a member of the room server's room) or
    // "whip" (a WHIP publisher, whip_sources.h); "source" in the document.
    void participantJoined(const std::string &id, const std::optional<std::string> &displayName,
        std::chrono::system_clock::time_point at, const std::string &source = "room");
    void participantLeft(const std::string &id, std::chrono::system_clock::time_point at);
    // A file started for a participant ("" for a room-scope output): its name
    // relative to the manifest's folder, template, codecs ("" if none), and its
    // start offset on the common session clock (seconds since session start).
    void fileStarted(const std::string &participantId, const std::string &relativePath,
        const std::string &templateName, const std::string &videoCodec,
        const std::string &audioCodec, double startOffsetSeconds);
    void fileFinished(const std::string &relativePath, double durationSeconds, uint64_t bytes);
    // The latest entry for relativePath goes (a part that never got a byte on disk).
    void fileDiscarded(const std::string &relativePath);
    // Why a participant's or an output's media has a hole in its timeline.
    // Paused: an operator paused the output (POST .../pause) until it was resumed.
    enum class GapCause { Network, SenderPaused, DiskFull, GatewayRestart, Paused };
    static const char *gapCauseName(GapCause cause) noexcept;
    // A gap began at startOffsetSeconds (session clock) for participantId ("" for a room-scope
    // output); output names the output it concerns ("" when it is the participant's whole
    // media). It stays open (end null) until gapEnded() with the same participant, output and
    // cause; a second start while one is open is ignored.
    void gapStarted(const std::string &participantId, const std::string &output, GapCause cause,
        double startOffsetSeconds);
    // Closes the latest open gap of that participant, output and cause; no-op if none is open.
    void gapEnded(const std::string &participantId, const std::string &output, GapCause cause,
        double endOffsetSeconds);
    // A template that cannot take what a participant sends ("skipped": participant, template,
    // reason, e.g. "video codec H264 not taken"), said once per participant and template.
    void templateSkipped(const std::string &participantId, const std::string &templateName,
        const std::string &reason);
    // Marks the session as ended (sets "ended").
    void sessionEnded(std::chrono::system_clock::time_point at);
    // "previous_session": the folder name (relative to the room's folder) of the session this
    // one follows, "" for none (null).
    void setPreviousSession(const std::string &folder);

    // ----- a previous run's manifest, read back (see session_resume.h) -----
    // Replaces the document with the one in text (a manifest this class wrote), validated: a
    // wrong shape, type, cause, a path leaving the folder or a time that is not finite is
    // refused with error and nothing changes. Never throws. The session clock is the text's.
    bool load(const std::string &text, std::string &error);
    std::chrono::system_clock::time_point sessionStart() const noexcept { return sessionStart_; }
    const std::string &room() const noexcept { return room_; }
    bool ended() const noexcept { return ended_.has_value(); }
    // The latest time the document knows (a presence, a file's start or end, a gap), in seconds
    // on the session clock.
    double lastKnownOffset() const;
    // Continues a session after a crash: presences still open are closed at lastKnown (the
    // crash), files not finished are marked interrupted, and each participant that had an open
    // presence or an unfinished file gets a gateway-restart gap from lastKnown to the start of
    // its next file (fileStarted), when it comes back. Writes.
    void continueAfterRestart(double lastKnownOffset);

    // Each failed write calls this (on the thread that wrote): its owner retries with
    // retryWrite() later (a full disk). The document is complete in memory, so the next write
    // that succeeds has every entry.
    void setWriteFailedHandler(std::function<void()> handler) { writeFailed_ = std::move(handler); }
    // A write is owed (the last one failed).
    bool dirty() const noexcept { return dirty_; }
    // Writes again; true when the file is now up to date.
    bool retryWrite();

    // Writes a temp file in the same folder, fsyncs it, renames it over path,
    // then fsyncs the folder. Readers see the old or the new document, never a mix.
    bool write(std::string &error);
    // The document as JSON text (what write() puts in the file).
    std::string toJson() const;
    const std::string &path() const { return path_; }
    const std::string &lastError() const { return lastError_; }

    // Seconds from session start to t.
    double offsetOf(std::chrono::system_clock::time_point t) const;

private:
    struct Presence
    {
        std::string id;
        std::optional<std::string> name;
        double joined = 0;
        std::optional<double> left;
        std::string source = "room";
    };
    struct File
    {
        std::string path, participant, templateName, videoCodec, audioCodec;
        double start = 0;
        std::optional<double> duration;
        std::optional<uint64_t> bytes;
        bool interrupted = false; // a gateway crash ended it unfinished (plays up to the crash)
    };
    struct Gap
    {
        std::string participant, output;
        GapCause cause = GapCause::Network;
        double start = 0;
        std::optional<double> end;
    };
    struct Skip
    {
        std::string participant, templateName, reason;
    };
    Gap *openGap(const std::string &participantId, const std::string &output, GapCause cause);
    void autoWrite();

    std::string path_, room_;
    std::chrono::system_clock::time_point sessionStart_;
    std::optional<double> ended_;
    std::vector<Presence> presences_;
    std::vector<File> files_;
    std::vector<Gap> gaps_;
    std::string previousSession_;
    // Participants of a crashed run whose next file opens with a gateway-restart gap.
    std::set<std::string> restartGapFor_;
    double restartAt_ = 0;
    std::vector<Skip> skipped_;
    std::string lastError_;
    bool dirty_ = false;
    std::function<void()> writeFailed_;
};

} // namespace rc::gateway
