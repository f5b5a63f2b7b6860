// JSON views of participants and outputs; see status_json.h.
#include "gateway/app/status_json.h"

#include "common/base/json.h"
#include "gateway/templates/pipeline_template.h"

#include <cstdio>

namespace rc::gateway {

std::string isoTime(std::chrono::system_clock::time_point t)
{
    const auto us
        = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    GDateTime *dt = g_date_time_new_from_unix_utc(us / 1000000);
    if (!dt)
        return {};
    std::string out = takeString(g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S"));
    g_date_time_unref(dt);
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>((us % 1000000) / 1000));
    return out + frac;
}

GPtr<JsonNode> arrayNode(std::vector<GPtr<JsonNode>> items)
{
    JsonArray *array = json_array_new();
    for (auto &item : items)
        json_array_add_element(array, item.release());
    JsonNode *node = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(node, array);
    return adopt(node);
}

bool isFinalOutput(const OutputInfo &o)
{
    return isFinal(o.state);
}

GPtr<JsonNode> outputJson(const std::string &room, const OutputInfo &o)
{
    json::ObjectBuilder b;
    b.set("id", o.id).set("room", room).set("template", o.templateName);
    b.set("scope", scopeName(o.scope)).set("state", apiOutputState(o.state));
    if (!o.url.empty())
        b.set("url", o.url); // already redacted by the room session
    std::vector<GPtr<JsonNode>> files;
    for (const auto &f : o.files) {
        json::ObjectBuilder fb;
        fb.set("path", f.path);
        if (!f.participant.empty())
            fb.set("participant", f.participant);
        fb.set("bytes", static_cast<int64_t>(f.bytes));
        fb.set("duration_seconds", f.durationSeconds);
        files.push_back(fb.build());
    }
    if (o.files.size() == 1 && !o.files.front().path.empty())
        b.set("file", o.files.front().path);
    if (o.files.size() == 1 && !o.files.front().participant.empty())
        b.set("participant", o.files.front().participant);
    b.set("bytes", static_cast<int64_t>(o.bytes));
    if (o.startedAt)
        b.set("started_at", isoTime(*o.startedAt));
    if ((o.state == OutputState::failed || o.state == OutputState::retrying) && !o.failure.empty())
        b.set("reason", o.failure);
    b.set("restarts", static_cast<int64_t>(o.restarts));
    b.set("paused", o.pausedAt.has_value());
    if (o.pausedAt)
        b.set("paused_at", isoTime(*o.pausedAt));
    b.set("files", arrayNode(std::move(files)));
    if (!o.manifestPath.empty())
        b.set("manifest", o.manifestPath);
    if (!o.snapshots.empty()) {
        // A snapshot template: where each latest.jpg is (the room's, or one per participant).
        std::vector<GPtr<JsonNode>> snapshots;
        for (const auto &s : o.snapshots) {
            json::ObjectBuilder sb;
            if (!s.participant.empty())
                sb.set("participant", s.participant);
            sb.set("latest", s.latest);
            snapshots.push_back(sb.build());
        }
        if (o.scope == TemplateScope::room)
            b.set("latest", o.snapshots.front().latest);
        b.set("snapshots", arrayNode(std::move(snapshots)));
    }
    return b.build();
}

GPtr<JsonNode> participantJson(const ParticipantInfo &p)
{
    json::ObjectBuilder b;
    b.set("id", p.id);
    if (p.name)
        b.set("name", *p.name);
    b.set("joined_at", isoTime(p.joinedAt));
    b.set("source", p.source);
    std::vector<GPtr<JsonNode>> codecs;
    for (const auto &c : p.codecs)
        codecs.push_back(json::stringNode(c));
    b.set("codecs", arrayNode(std::move(codecs)));
    b.set("receive_bitrate_bps", static_cast<int64_t>(p.receiveBitrateBps));
    b.set("packets_received", static_cast<int64_t>(p.packetsReceived));
    b.set("packets_lost", static_cast<int64_t>(p.packetsLost));
    json::ObjectBuilder connection;
    connection.set("state", p.connection);
    if (!p.connectionReason.empty())
        connection.set("reason", p.connectionReason);
    b.set("connection", connection.build());
    return b.build();
}

GPtr<JsonNode> outputsJson(const std::string &room, const std::vector<OutputInfo> &outputs)
{
    std::vector<GPtr<JsonNode>> items;
    for (const auto &o : outputs)
        items.push_back(outputJson(room, o));
    return arrayNode(std::move(items));
}

} // namespace rc::gateway
