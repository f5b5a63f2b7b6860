// Reading a manifest back (a previous run's, to continue its session): every member checked for
// shape, type and range, since the file is on disk where anything may have changed it.
#include "common/base/json.h"
#include "gateway/room/manifest.h"

#include <glib.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace rc::gateway {
namespace {

// Far more than any meeting makes; a bound on what a hostile file can make us hold.
constexpr size_t kMaxEntries = 100000;
constexpr size_t kMaxText = 16 * 1024 * 1024;
// A session clock beyond a year is not a meeting: refused as hostile.
constexpr double kMaxOffset = 366.0 * 24 * 3600;

// "2026-11-24T04:15:00.000Z" (what isoTime writes); nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parseIsoTime(const std::string &text)
{
    int y, mo, d, h, mi, sec, ms, n = 0;
    if (text.size() != 24
        || std::sscanf(
               text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &sec, &ms, &n)
            != 7
        || n != 24)
        return std::nullopt;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59
        || sec > 60 || ms < 0 || h < 0 || mi < 0 || sec < 0)
        return std::nullopt;
    std::tm tm {};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    const time_t t = timegm(&tm);
    return std::chrono::system_clock::from_time_t(t) + std::chrono::milliseconds(ms);
}

bool validOffset(double v)
{
    return std::isfinite(v) && v >= -kMaxOffset && v <= kMaxOffset;
}

// A member that must be a string; an optional one may also be null (-> "").
bool readString(JsonObject *o, const char *name, std::string &out, bool nullable)
{
    if (!json_object_has_member(o, name))
        return false;
    if (nullable && rc::json::isNullMember(o, name)) {
        out.clear();
        return true;
    }
    auto v = rc::json::stringMember(o, name);
    if (!v || v->size() > 4096)
        return false;
    out = *v;
    return true;
}

bool readNumber(JsonObject *o, const char *name, double &out)
{
    JsonNode *node = json_object_get_member(o, name);
    if (!node || !JSON_NODE_HOLDS_VALUE(node))
        return false;
    const GType t = json_node_get_value_type(node);
    if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
        return false;
    out = json_node_get_double(node);
    return validOffset(out);
}

bool readOptionalNumber(JsonObject *o, const char *name, std::optional<double> &out)
{
    if (!json_object_has_member(o, name))
        return false;
    if (rc::json::isNullMember(o, name)) {
        out.reset();
        return true;
    }
    double v = 0;
    if (!readNumber(o, name, v))
        return false;
    out = v;
    return true;
}

// A file's path as listed: relative, inside the session folder.
bool safeRelativePath(const std::string &path)
{
    if (path.empty() || path.size() > 255 || path.front() == '/')
        return false;
    for (const auto &part : std::filesystem::path(path))
        if (part == ".." || part == ".")
            return false;
    return path.find('\0') == std::string::npos;
}

JsonArray *entries(JsonObject *root, const char *name, std::string &error)
{
    JsonArray *a = rc::json::arrayMember(root, name);
    if (!a)
        error = std::string("\"") + name + "\" is not an array";
    else if (json_array_get_length(a) > kMaxEntries)
        error = std::string("\"") + name + "\" has too many entries";
    else
        return a;
    return nullptr;
}

} // namespace

bool Manifest::load(const std::string &text, std::string &error)
{
    if (text.size() > kMaxText) {
        error = "too large";
        return false;
    }
    auto node = rc::json::parse(text, error);
    if (!node)
        return false;
    if (!JSON_NODE_HOLDS_OBJECT(node.get())) {
        error = "not a JSON object";
        return false;
    }
    JsonObject *root = json_node_get_object(node.get());
    if (rc::json::stringMember(root, "format").value_or("") != "roomcast-session-manifest"
        || rc::json::intMember(root, "version").value_or(0) != 1) {
        error = "not a roomcast session manifest (format, version 1)";
        return false;
    }
    Manifest m(path_, {}, {});
    auto start = parseIsoTime(rc::json::stringMember(root, "session_start").value_or(""));
    if (!readString(root, "room", m.room_, false) || !start) {
        error = "no room or session_start";
        return false;
    }
    m.sessionStart_ = *start;
    if (!readOptionalNumber(root, "session_end", m.ended_)) {
        error = "session_end is neither a time nor null";
        return false;
    }
    if (json_object_has_member(root, "previous_session")
        && !readString(root, "previous_session", m.previousSession_, true)) {
        error = "previous_session is neither a string nor null";
        return false;
    }

    JsonArray *people = entries(root, "participants", error);
    if (!people)
        return false;
    for (guint i = 0; i < json_array_get_length(people); ++i) {
        JsonObject *o = json_array_get_object_element(people, i);
        Presence p;
        std::string name;
        bool hasName = o && json_object_has_member(o, "name") && !rc::json::isNullMember(o, "name");
        if (!o || !readString(o, "id", p.id, false) || !readString(o, "name", name, true)
            || !readNumber(o, "joined", p.joined) || !readOptionalNumber(o, "left", p.left)) {
            error = "participants[" + std::to_string(i) + "] is not a presence";
            return false;
        }
        if (hasName)
            p.name = name;
        // Manifests written before WHIP sources have no "source": their members were the room's.
        if (json_object_has_member(o, "source")
            && (!readString(o, "source", p.source, false)
                || (p.source != "room" && p.source != "whip"))) {
            error = "participants[" + std::to_string(i) + "] has an unknown source";
            return false;
        }
        m.presences_.push_back(std::move(p));
    }

    JsonArray *files = entries(root, "files", error);
    if (!files)
        return false;
    for (guint i = 0; i < json_array_get_length(files); ++i) {
        JsonObject *o = json_array_get_object_element(files, i);
        File f;
        std::optional<double> duration;
        bool ok = o && readString(o, "path", f.path, false) && safeRelativePath(f.path)
            && readString(o, "participant", f.participant, true)
            && readString(o, "template", f.templateName, false)
            && readString(o, "video_codec", f.videoCodec, false)
            && readString(o, "audio_codec", f.audioCodec, false) && readNumber(o, "start", f.start)
            && readOptionalNumber(o, "duration", f.duration);
        if (ok && json_object_has_member(o, "bytes") && !rc::json::isNullMember(o, "bytes")) {
            auto bytes = rc::json::intMember(o, "bytes");
            ok = bytes && *bytes >= 0;
            if (ok)
                f.bytes = static_cast<uint64_t>(*bytes);
        }
        if (ok && json_object_has_member(o, "interrupted"))
            f.interrupted = rc::json::boolMember(o, "interrupted").value_or(false);
        if (!ok) {
            error = "files[" + std::to_string(i) + "] is not a file entry";
            return false;
        }
        m.files_.push_back(std::move(f));
    }

    // Older manifests have no gaps.
    if (json_object_has_member(root, "gaps")) {
        JsonArray *gaps = entries(root, "gaps", error);
        if (!gaps)
            return false;
        for (guint i = 0; i < json_array_get_length(gaps); ++i) {
            JsonObject *o = json_array_get_object_element(gaps, i);
            Gap g;
            std::string cause;
            bool ok = o && readString(o, "participant", g.participant, true)
                && readString(o, "output", g.output, true) && readString(o, "cause", cause, false)
                && readNumber(o, "start", g.start) && readOptionalNumber(o, "end", g.end);
            bool known = false;
            for (GapCause c : { GapCause::Network, GapCause::SenderPaused, GapCause::DiskFull,
                     GapCause::GatewayRestart, GapCause::Paused })
                if (ok && cause == gapCauseName(c)) {
                    g.cause = c;
                    known = true;
                }
            if (!ok || !known) {
                error = "gaps[" + std::to_string(i) + "] is not a gap event";
                return false;
            }
            m.gaps_.push_back(std::move(g));
        }
    }

    // Only the document moves: path, write state and handler stay this object's.
    room_ = std::move(m.room_);
    sessionStart_ = m.sessionStart_;
    ended_ = m.ended_;
    previousSession_ = std::move(m.previousSession_);
    presences_ = std::move(m.presences_);
    files_ = std::move(m.files_);
    gaps_ = std::move(m.gaps_);
    restartGapFor_.clear();
    return true;
}

} // namespace rc::gateway
