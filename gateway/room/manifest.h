// The session manifest (manifest.json): who was there, which files, on one session clock; written
// atomically.
//
// Owned by one room session; thread-bound to the gateway's main context.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
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
    void participantJoined(const std::string &id, const std::optional<std::string> &displayName,
        std::chrono::system_clock::time_point at);
    void participantLeft(const std::string &id, std::chrono::system_clock::time_point at);
    // A file started for a participant ("" for a room-scope output): its name
    // relative to the manifest's folder, template, codecs ("" if none), and its
    // start offset on the common session clock (seconds since session start).
    void fileStarted(const std::string &participantId, const std::string &relativePath,
        const std::string &templateName, const std::string &videoCodec,
        const std::string &audioCodec, double startOffsetSeconds);
    void fileFinished(const std::string &relativePath, double durationSeconds, uint64_t bytes);
    // Why a participant's or an output's media has a hole in its timeline.
    enum class GapCause { Network, SenderPaused, DiskFull, GatewayRestart };
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
    };
    struct File
    {
        std::string path, participant, templateName, videoCodec, audioCodec;
        double start = 0;
        std::optional<double> duration;
        std::optional<uint64_t> bytes;
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
    std::vector<Skip> skipped_;
    std::string lastError_;
};

} // namespace rc::gateway
