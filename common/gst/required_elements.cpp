// Collecting and checking the elements components create in code; see required_elements.h.
#include "common/gst/required_elements.h"

#include <gst/gst.h>

#include <algorithm>

namespace rc {

void addRequired(RequiredElements &list, const RequiredElements &more)
{
    for (const auto &e : more) {
        const bool listed = std::any_of(list.begin(), list.end(),
            [&](const RequiredElement &have) { return have.factory == e.factory; });
        if (!listed)
            list.push_back(e);
    }
}

bool isElementInstalled(const std::string &factory)
{
    GstElementFactory *f = gst_element_factory_find(factory.c_str());
    if (!f)
        return false;
    gst_object_unref(f);
    return true;
}

std::optional<RequiredElement> firstMissing(const RequiredElements &list)
{
    for (const auto &e : list)
        if (!isElementInstalled(e.factory))
            return e;
    return std::nullopt;
}

} // namespace rc
