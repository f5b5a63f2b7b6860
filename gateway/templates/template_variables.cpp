// Checked ${variable} substitution for pipeline templates; see template_variables.h.
#include "gateway/templates/template_variables.h"

namespace rc::gateway {
namespace {

bool isSafeChar(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'
        || c == '_' || c == '-';
}

bool isNameChar(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Visits the text: literal runs go to onText, placeholders to onName.
template <typename OnText, typename OnName>
void scan(const std::string &text, OnText &&onText, OnName &&onName)
{
    size_t i = 0;
    while (i < text.size()) {
        size_t dollar = text.find('$', i);
        if (dollar == std::string::npos) {
            onText(std::string_view(text).substr(i));
            return;
        }
        onText(std::string_view(text).substr(i, dollar - i));
        if (dollar + 1 < text.size() && text[dollar + 1] == '$') {
            onText("$");
            i = dollar + 2;
            continue;
        }
        if (dollar + 1 >= text.size() || text[dollar + 1] != '{') {
            onText("$");
            i = dollar + 1;
            continue;
        }
        size_t close = text.find('}', dollar + 2);
        if (close == std::string::npos)
            throw std::invalid_argument("unterminated '${' in pipeline description");
        std::string name = text.substr(dollar + 2, close - dollar - 2);
        if (name.empty())
            throw std::invalid_argument("empty variable name '${}'");
        for (char c : name) {
            if (!isNameChar(c))
                throw std::invalid_argument("ill-formed variable name '${" + name + "}'");
        }
        onName(name);
        i = close + 1;
    }
}

} // namespace

const std::vector<std::string> &templateVariableNames()
{
    static const std::vector<std::string> names { "room", "participant", "session_start" };
    return names;
}

bool isSafeVariableValue(const std::string &value) noexcept
{
    // No leading '.': never ".", ".." or a hidden name, should a value ever
    // end up in a path-like property.
    if (value.empty() || value.size() > 64 || value[0] == '.')
        return false;
    for (char c : value) {
        if (!isSafeChar(c))
            return false;
    }
    return true;
}

std::vector<std::string> placeholdersIn(const std::string &launch)
{
    std::vector<std::string> names;
    scan(
        launch, [](std::string_view) {}, [&](const std::string &name) { names.push_back(name); });
    return names;
}

std::string expandVariables(const std::string &launch, const TemplateVariables &vars)
{
    std::string out;
    out.reserve(launch.size());
    scan(
        launch, [&](std::string_view text) { out.append(text); },
        [&](const std::string &name) {
            const std::string *value = nullptr;
            if (name == "room")
                value = &vars.room;
            else if (name == "participant")
                value = &vars.participant;
            else if (name == "session_start")
                value = &vars.sessionStart;
            else if (auto it = vars.params.find(name); it != vars.params.end())
                value = &it->second;
            else if (name == "recordings_dir")
                throw std::invalid_argument(
                    "${recordings_dir} may not be used in a description: the gateway sets "
                    "the location of the element named 'file' itself");
            else
                throw std::invalid_argument("unknown variable '${" + name
                    + "}' (known: ${room}, ${participant}, ${session_start})");
            if (!isSafeVariableValue(*value))
                throw std::invalid_argument("value of ${" + name
                    + "} is not 1 to 64 characters of [A-Za-z0-9._-] (not starting with '.'); "
                      "refusing to "
                      "substitute it");
            out += *value;
        });
    return out;
}

} // namespace rc::gateway
