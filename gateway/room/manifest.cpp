// The session manifest as JSON, rewritten atomically on every change; see manifest.h.
#include "gateway/room/manifest.h"

#include "common/base/gptr.h"
#include "common/base/json.h"
#include "common/base/log.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace rc::gateway {
namespace {

// Display names and room names are data: stored through json-glib, which
// escapes quotes and control characters; invalid UTF-8 is repaired first so
// the file is always valid JSON.
std::string validUtf8(const std::string &s)
{
    return takeString(g_utf8_make_valid(s.data(), static_cast<gssize>(s.size())));
}

std::string isoTime(std::chrono::system_clock::time_point t)
{
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    auto seconds = us / 1000000;
    auto millis = (us % 1000000) / 1000;
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    std::time_t tt = static_cast<std::time_t>(seconds);
    std::tm utc {};
    gmtime_r(&tt, &utc);
    char buf[48];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(millis));
    return buf;
}

double rounded(double seconds)
{
    return std::round(seconds * 1000.0) / 1000.0;
}

void addOptionalDouble(JsonBuilder *b, const char *name, const std::optional<double> &v)
{
    json_builder_set_member_name(b, name);
    if (v)
        json_builder_add_double_value(b, rounded(*v));
    else
        json_builder_add_null_value(b);
}

void addString(JsonBuilder *b, const char *name, const std::string &v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, validUtf8(v).c_str());
}

// json-glib writes a double with 17 significant digits, so a time rounded to the millisecond
// comes out as 11.407999999999999. Every fractional number in the manifest is a time on the
// session clock, so each is rewritten as what it is: at most 3 decimals (11.408, 13.0).
std::string millisecondNumbers(const std::string &json)
{
    std::string out;
    out.reserve(json.size());
    bool inString = false;
    for (size_t i = 0; i < json.size();) {
        const char c = json[i];
        if (inString) {
            out += c;
            if (c == '\\' && i + 1 < json.size())
                out += json[++i];
            else if (c == '"')
                inString = false;
            ++i;
            continue;
        }
        if (c == '"') {
            inString = true;
            out += c;
            ++i;
            continue;
        }
        if (c != '-' && !g_ascii_isdigit(c)) {
            out += c;
            ++i;
            continue;
        }
        size_t end = i;
        while (end < json.size() && json[end] != '\0' && std::strchr("0123456789+-.eE", json[end]))
            ++end;
        const std::string token = json.substr(i, end - i);
        if (token.find_first_of(".eE") == std::string::npos) {
            out += token; // an integer (bytes, version) stays as written
        } else {
            char buf[G_ASCII_DTOSTR_BUF_SIZE];
            std::string text
                = g_ascii_formatd(buf, sizeof buf, "%.3f", g_ascii_strtod(token.c_str(), nullptr));
            // 13.000 -> 13.0, 1.500 -> 1.5: json-glib's own shape for whole and short values.
            while (text.size() > 2 && text.back() == '0' && text[text.size() - 2] != '.')
                text.pop_back();
            out += text;
        }
        i = end;
    }
    return out;
}

bool writeAll(int fd, const std::string &data)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

} // namespace

Manifest::Manifest(
    std::string path, std::string room, std::chrono::system_clock::time_point sessionStart)
    : path_(std::move(path))
    , room_(std::move(room))
    , sessionStart_(sessionStart)
{ }

double Manifest::offsetOf(std::chrono::system_clock::time_point t) const
{
    return std::chrono::duration<double>(t - sessionStart_).count();
}

void Manifest::participantJoined(const std::string &id,
    const std::optional<std::string> &displayName, std::chrono::system_clock::time_point at,
    const std::string &source)
{
    presences_.push_back({ id, displayName, offsetOf(at), std::nullopt, source });
    autoWrite();
}

void Manifest::participantLeft(const std::string &id, std::chrono::system_clock::time_point at)
{
    // A restarted room server may reuse an id: close the latest open presence.
    for (auto it = presences_.rbegin(); it != presences_.rend(); ++it) {
        if (it->id == id && !it->left) {
            it->left = offsetOf(at);
            break;
        }
    }
    autoWrite();
}

void Manifest::fileStarted(const std::string &participantId, const std::string &relativePath,
    const std::string &templateName, const std::string &videoCodec, const std::string &audioCodec,
    double startOffsetSeconds)
{
    files_.push_back({ relativePath, participantId, templateName, videoCodec, audioCodec,
        startOffsetSeconds, std::nullopt, std::nullopt });
    if (restartGapFor_.erase(participantId)) {
        // Back after the gateway's restart: the hole runs from the crash to this part.
        gaps_.push_back({ participantId, "", GapCause::GatewayRestart, restartAt_,
            std::max(restartAt_, startOffsetSeconds) });
    }
    autoWrite();
}

void Manifest::fileDiscarded(const std::string &relativePath)
{
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
        if (it->path == relativePath) {
            files_.erase(std::next(it).base());
            break;
        }
    }
    autoWrite();
}

void Manifest::fileFinished(const std::string &relativePath, double durationSeconds, uint64_t bytes)
{
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
        if (it->path == relativePath) {
            it->duration = durationSeconds;
            it->bytes = bytes;
            break;
        }
    }
    autoWrite();
}

const char *Manifest::gapCauseName(GapCause cause) noexcept
{
    switch (cause) {
    case GapCause::Network:
        return "network";
    case GapCause::SenderPaused:
        return "sender-paused";
    case GapCause::DiskFull:
        return "disk-full";
    case GapCause::GatewayRestart:
        return "gateway-restart";
    case GapCause::Paused:
        return "paused";
    }
    return "network";
}

Manifest::Gap *Manifest::openGap(
    const std::string &participantId, const std::string &output, GapCause cause)
{
    for (auto it = gaps_.rbegin(); it != gaps_.rend(); ++it) {
        if (it->participant == participantId && it->output == output && it->cause == cause
            && !it->end)
            return &*it;
    }
    return nullptr;
}

void Manifest::gapStarted(const std::string &participantId, const std::string &output,
    GapCause cause, double startOffsetSeconds)
{
    if (openGap(participantId, output, cause))
        return;
    gaps_.push_back({ participantId, output, cause, startOffsetSeconds, std::nullopt });
    autoWrite();
}

void Manifest::gapEnded(const std::string &participantId, const std::string &output, GapCause cause,
    double endOffsetSeconds)
{
    Gap *gap = openGap(participantId, output, cause);
    if (!gap)
        return;
    gap->end = std::max(gap->start, endOffsetSeconds);
    autoWrite();
}

void Manifest::templateSkipped(
    const std::string &participantId, const std::string &templateName, const std::string &reason)
{
    for (const auto &k : skipped_)
        if (k.participant == participantId && k.templateName == templateName)
            return;
    skipped_.push_back({ participantId, templateName, reason });
    autoWrite();
}

void Manifest::sessionEnded(std::chrono::system_clock::time_point at)
{
    ended_ = offsetOf(at);
    autoWrite();
}

void Manifest::setPreviousSession(const std::string &folder)
{
    previousSession_ = folder;
    autoWrite();
}

double Manifest::lastKnownOffset() const
{
    double last = 0;
    for (const auto &p : presences_)
        last = std::max({ last, p.joined, p.left.value_or(0) });
    for (const auto &f : files_)
        last = std::max(last, f.start + f.duration.value_or(0));
    for (const auto &g : gaps_)
        last = std::max({ last, g.start, g.end.value_or(0) });
    return std::max(last, ended_.value_or(0));
}

void Manifest::continueAfterRestart(double lastKnownOffset)
{
    restartAt_ = lastKnownOffset;
    for (auto &p : presences_) {
        if (p.left)
            continue;
        p.left = std::max(p.joined, lastKnownOffset);
        restartGapFor_.insert(p.id);
    }
    for (auto &f : files_) {
        if (f.duration)
            continue;
        f.interrupted = true;
        if (!f.participant.empty())
            restartGapFor_.insert(f.participant);
    }
    // A gap the crash left open ends at the crash; the restart gap takes over from there.
    for (auto &g : gaps_)
        if (!g.end)
            g.end = std::max(g.start, lastKnownOffset);
    autoWrite();
}

std::string Manifest::toJson() const
{
    GPtr<JsonBuilder> b = adopt(json_builder_new());
    json_builder_begin_object(b.get());
    addString(b.get(), "format", "roomcast-session-manifest");
    json_builder_set_member_name(b.get(), "version");
    json_builder_add_int_value(b.get(), 1);
    addString(b.get(), "room", room_);
    addString(b.get(), "session_start", isoTime(sessionStart_));
    addOptionalDouble(b.get(), "session_end", ended_);
    json_builder_set_member_name(b.get(), "previous_session");
    if (previousSession_.empty())
        json_builder_add_null_value(b.get());
    else
        json_builder_add_string_value(b.get(), validUtf8(previousSession_).c_str());

    json_builder_set_member_name(b.get(), "participants");
    json_builder_begin_array(b.get());
    for (const auto &p : presences_) {
        json_builder_begin_object(b.get());
        addString(b.get(), "id", p.id);
        json_builder_set_member_name(b.get(), "name");
        if (p.name)
            json_builder_add_string_value(b.get(), validUtf8(*p.name).c_str());
        else
            json_builder_add_null_value(b.get());
        addOptionalDouble(b.get(), "joined", p.joined);
        addOptionalDouble(b.get(), "left", p.left);
        addString(b.get(), "source", p.source);
        json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());

    json_builder_set_member_name(b.get(), "files");
    json_builder_begin_array(b.get());
    for (const auto &f : files_) {
        json_builder_begin_object(b.get());
        addString(b.get(), "path", f.path);
        json_builder_set_member_name(b.get(), "participant");
        if (f.participant.empty())
            json_builder_add_null_value(b.get());
        else
            json_builder_add_string_value(b.get(), validUtf8(f.participant).c_str());
        addString(b.get(), "template", f.templateName);
        addString(b.get(), "video_codec", f.videoCodec);
        addString(b.get(), "audio_codec", f.audioCodec);
        addOptionalDouble(b.get(), "start", f.start);
        addOptionalDouble(b.get(), "duration", f.duration);
        json_builder_set_member_name(b.get(), "bytes");
        if (f.bytes)
            json_builder_add_int_value(b.get(), static_cast<gint64>(*f.bytes));
        else
            json_builder_add_null_value(b.get());
        json_builder_set_member_name(b.get(), "finished");
        json_builder_add_boolean_value(b.get(), f.duration.has_value());
        json_builder_set_member_name(b.get(), "interrupted");
        json_builder_add_boolean_value(b.get(), f.interrupted);
        json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());

    // Holes in a timeline; the files keep them in place (see docs/faults.md).
    json_builder_set_member_name(b.get(), "gaps");
    json_builder_begin_array(b.get());
    for (const auto &g : gaps_) {
        json_builder_begin_object(b.get());
        json_builder_set_member_name(b.get(), "participant");
        if (g.participant.empty())
            json_builder_add_null_value(b.get());
        else
            json_builder_add_string_value(b.get(), validUtf8(g.participant).c_str());
        json_builder_set_member_name(b.get(), "output");
        if (g.output.empty())
            json_builder_add_null_value(b.get());
        else
            json_builder_add_string_value(b.get(), validUtf8(g.output).c_str());
        addString(b.get(), "cause", gapCauseName(g.cause));
        addOptionalDouble(b.get(), "start", g.start);
        addOptionalDouble(b.get(), "end", g.end);
        json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());

    // Templates that recorded nothing for a participant, and why.
    json_builder_set_member_name(b.get(), "skipped");
    json_builder_begin_array(b.get());
    for (const auto &k : skipped_) {
        json_builder_begin_object(b.get());
        addString(b.get(), "participant", k.participant);
        addString(b.get(), "template", k.templateName);
        addString(b.get(), "reason", k.reason);
        json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());
    json_builder_end_object(b.get());

    GPtr<JsonNode> root = adopt(json_builder_get_root(b.get()));
    GPtr<JsonGenerator> gen = adopt(json_generator_new());
    json_generator_set_pretty(gen.get(), TRUE);
    json_generator_set_root(gen.get(), root.get());
    return millisecondNumbers(takeString(json_generator_to_data(gen.get(), nullptr))) + "\n";
}

bool Manifest::write(std::string &error)
{
    const std::string text = toJson();
    std::filesystem::path target(path_);
    std::filesystem::path dir
        = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
    std::string tmpl = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) {
        error = "cannot create a temporary file next to " + path_ + ": " + std::strerror(errno);
        return false;
    }
    bool ok = ::fchmod(fd, 0640) == 0 && writeAll(fd, text) && ::fsync(fd) == 0;
    int savedErrno = errno;
    if (::close(fd) != 0 && ok) {
        ok = false;
        savedErrno = errno;
    }
    if (ok && ::rename(tmpl.c_str(), path_.c_str()) != 0) {
        ok = false;
        savedErrno = errno;
    }
    if (!ok) {
        ::unlink(tmpl.c_str());
        error = "cannot write " + path_ + ": " + std::strerror(savedErrno);
        return false;
    }
    // The rename itself is durable only once the folder is synced.
    int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd >= 0) {
        ::fsync(dirFd);
        ::close(dirFd);
    }
    return true;
}

void Manifest::autoWrite()
{
    std::string error;
    if (write(error)) {
        if (dirty_)
            RC_LOG_INFO("manifest: %s written again", path_.c_str());
        dirty_ = false;
        lastError_.clear();
        return;
    }
    if (error != lastError_)
        RC_LOG_WARN("manifest: %s; retrying", error.c_str());
    lastError_ = error;
    dirty_ = true;
    if (writeFailed_)
        writeFailed_();
}

bool Manifest::retryWrite()
{
    autoWrite();
    return !dirty_;
}

} // namespace rc::gateway
