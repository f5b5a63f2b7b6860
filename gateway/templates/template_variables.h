// The whitelist of ${variables} a template may use, and their checked substitution.
//
// Pure functions, safe on any thread.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace rc::gateway {

// The whole whitelist. Only room, participant and session_start are ever
// substituted into a description, and only when each value is 1..64
// characters of [A-Za-z0-9._-], not starting with '.': such a value cannot end a gst-launch token,
// so it cannot add an element, a link or a property. recordingsDir is NOT
// substitutable (a template that says ${recordings_dir} is refused): file
// locations are always set by code on the element named "file".
// No display name, ever.
struct TemplateVariables
{
    std::string room; // ${room}
    std::string participant; // ${participant}  (peer id)
    std::string sessionStart; // ${session_start} e.g. 20261124T041500Z
    std::string recordingsDir; // never substituted; see above
    // The template's declared string and int parameters with their resolved
    // values (${NAME}); held to the same alphabet as the ids. Never a url
    // parameter: those are set on an element property by code.
    std::map<std::string, std::string> params;
};

// The substitutable variable names, in documentation order.
const std::vector<std::string> &templateVariableNames();

// True when value may be substituted: 1..64 characters of [A-Za-z0-9._-], no leading '.'.
bool isSafeVariableValue(const std::string &value) noexcept;

// The names of the ${...} placeholders in text, in order (duplicates kept).
// Throws std::invalid_argument for an unterminated "${" or an empty or
// ill-formed name. "$$" is a literal '$'; a '$' not followed by '{' or '$' is literal.
std::vector<std::string> placeholdersIn(const std::string &launch);

// Replaces every placeholder in one pass (substituted text is never rescanned).
// Throws std::invalid_argument on an unknown or forbidden name, or when a
// value that is actually used is not safe (values not referenced are not checked).
std::string expandVariables(const std::string &launch, const TemplateVariables &vars);

} // namespace rc::gateway
