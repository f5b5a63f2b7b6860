// Template parameters: resolving the values a template runs with (defaults, --param/--rtmp-url,
// API request) and checking each against the template's declaration.
//
// Pure functions, safe on any thread. Start-up callers get StartupError(78);
// run-time callers (the control API's outputs) get false with a reason.
#pragma once

#include "gateway/ops/output_params.h"
#include "gateway/templates/pipeline_template.h"

#include <map>
#include <string>
#include <vector>

namespace rc::gateway {

using ParamMap = std::map<std::string, std::string>;

// Whether value is acceptable for param: string = 1..64 of [A-Za-z0-9._-]
// not starting with '.'; int = decimal in range; url = ops::isAllowedUrl
// with the declared schemes.
bool checkParamValue(const TemplateParam &param, const std::string &value, std::string &why);

// The values tpl runs with: each declared parameter's default, overridden by
// given[name] when present. Names given that tpl does not declare are
// ignored (--param applies to every template declaring the name). False with
// why when a value is invalid or a required one is missing.
bool resolveParams(
    const PipelineTemplate &tpl, const ParamMap &given, ParamMap &out, std::string &why);

// Start-up form for the active templates and the options' --param values:
// throws StartupError(78) naming the template and parameter, also for a
// --param that no active template declares.
std::vector<ParamMap> resolveStartupParams(
    const std::vector<PipelineTemplate> &templates, const ParamMap &given);

// The control API's view of a declaration.
ops::ParamSpec paramSpecFor(const TemplateParam &param);

} // namespace rc::gateway
