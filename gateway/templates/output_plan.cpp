// Resolving and checking template parameter values; see output_plan.h.
#include "gateway/templates/output_plan.h"

#include "common/base/exit_codes.h"
#include "common/base/startup_error.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

namespace rc::gateway {
namespace {

constexpr size_t kMaxString = 64;
constexpr size_t kMaxUrl = 2048;

bool isSafeToken(const std::string &v)
{
    return !v.empty() && v.size() <= kMaxString && v[0] != '.'
        && v.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
        == std::string::npos;
}

} // namespace

bool checkParamValue(const TemplateParam &param, const std::string &value, std::string &why)
{
    switch (param.kind) {
    case TemplateParamKind::string:
        if (!isSafeToken(value)) {
            why = "must be 1 to 64 characters of [A-Za-z0-9._-], not starting with '.'";
            return false;
        }
        if (!param.values.empty()
            && std::find(param.values.begin(), param.values.end(), value) == param.values.end()) {
            why = "must be one of " + ops::joinValues(param.values);
            return false;
        }
        return true;
    case TemplateParamKind::integer: {
        if (value.empty() || value.size() > 18
            || value.find_first_not_of("-0123456789") != std::string::npos) {
            why = "must be an integer";
            return false;
        }
        errno = 0;
        char *end = nullptr;
        long long n = std::strtoll(value.c_str(), &end, 10);
        if (errno || *end) {
            why = "must be an integer";
            return false;
        }
        const bool anyRange = param.minValue == 0 && param.maxValue == 0;
        if ((anyRange && n < 0) || (!anyRange && (n < param.minValue || n > param.maxValue))) {
            why = anyRange ? "must not be negative"
                           : "must be between " + std::to_string(param.minValue) + " and "
                    + std::to_string(param.maxValue);
            return false;
        }
        return true;
    }
    case TemplateParamKind::url:
        return ops::isAllowedUrl(value, param.schemes, kMaxUrl, why);
    case TemplateParamKind::secret:
        return ops::isAcceptableSecret(
            value, static_cast<size_t>(param.minValue), static_cast<size_t>(param.maxValue), why);
    }
    why = "unknown kind";
    return false;
}

bool resolveParams(
    const PipelineTemplate &tpl, const ParamMap &given, ParamMap &out, std::string &why)
{
    out.clear();
    for (const auto &p : tpl.params) {
        auto it = given.find(p.name);
        const bool have = it != given.end();
        const std::string value = have ? it->second : p.defaultValue;
        if (value.empty()) {
            if (p.required) {
                why = "template " + tpl.name + " needs parameter " + p.name;
                return false;
            }
            continue;
        }
        std::string bad;
        if (!checkParamValue(p, value, bad)) {
            // A URL may carry a stream key: never echo it.
            why = "template " + tpl.name + ": parameter " + p.name + " "
                + (p.kind == TemplateParamKind::url ? std::string("is not an allowed URL: ") + bad
                                                    : bad);
            return false;
        }
        out[p.name] = value;
    }
    return true;
}

std::vector<ParamMap> resolveStartupParams(
    const std::vector<PipelineTemplate> &templates, const ParamMap &given)
{
    std::vector<ParamMap> all;
    std::set<std::string> declared;
    for (const auto &tpl : templates) {
        ParamMap values;
        std::string why;
        if (!resolveParams(tpl, given, values, why)) {
            if (why.find("needs parameter rtmp_url") != std::string::npos)
                why += " (--rtmp-url URL)";
            else if (why.find("needs parameter") != std::string::npos)
                why += " (--param NAME=VALUE)";
            throw StartupError(exitcode::config, why);
        }
        for (const auto &p : tpl.params)
            declared.insert(p.name);
        all.push_back(std::move(values));
    }
    for (const auto &[name, value] : given) {
        if (!declared.count(name))
            throw StartupError(exitcode::config,
                "parameter " + name + " is given but no active pipeline template declares it");
    }
    return all;
}

ops::ParamSpec paramSpecFor(const TemplateParam &param)
{
    ops::ParamSpec spec;
    spec.name = param.name;
    switch (param.kind) {
    case TemplateParamKind::string:
        spec.kind = ops::ParamKind::string;
        spec.allowedValues = param.values;
        break;
    case TemplateParamKind::integer:
        spec.kind = ops::ParamKind::integer;
        if (param.minValue != 0 || param.maxValue != 0) {
            spec.minValue = param.minValue;
            spec.maxValue = param.maxValue;
        } else {
            spec.minValue = 0;
        }
        break;
    case TemplateParamKind::url:
        spec.kind = ops::ParamKind::url;
        spec.allowedSchemes = param.schemes;
        break;
    case TemplateParamKind::secret:
        spec.kind = ops::ParamKind::secret;
        spec.minLength = static_cast<size_t>(param.minValue);
        spec.maxLength = static_cast<size_t>(param.maxValue);
        break;
    }
    // A default makes the parameter optional for API clients.
    spec.required = param.required && param.defaultValue.empty();
    return spec;
}

} // namespace rc::gateway
